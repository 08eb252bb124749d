//! Cognito's pre token generation trigger (event version 2): copies the user's `custom:org`
//! attribute into the access token. Cognito puts custom attributes only into ID tokens, and the
//! app API authorizes with access tokens; operators are scoped to their organisation by this claim.
//! Nothing else is added: groups are already in the access token (`cognito:groups`).

use aws_lambda_events::cognito::{
    ClaimsAndScopeOverrideDetailsV2, CognitoAccessTokenGenerationV2, CognitoEventUserPoolsPreTokenGenV2,
};
use serde_json::Value;

/// The user attribute, and the access token claim it becomes (the name the API reads).
pub const ORGANISATION: &str = "custom:org";

pub async fn handle(
    mut event: CognitoEventUserPoolsPreTokenGenV2,
) -> Result<CognitoEventUserPoolsPreTokenGenV2, lambda_runtime::Error> {
    let organisation = event
        .request
        .user_attributes
        .get(ORGANISATION)
        .map(|org| org.trim())
        .filter(|org| !org.is_empty())
        .map(str::to_owned);
    if let Some(organisation) = organisation {
        let mut access = CognitoAccessTokenGenerationV2::default();
        access
            .claims_to_add_or_override
            .insert(ORGANISATION.to_owned(), Value::String(organisation));
        let mut details = ClaimsAndScopeOverrideDetailsV2::default();
        details.access_token_generation = Some(access);
        event.response.claims_and_scope_override_details = Some(details);
    }
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(attributes: Value) -> CognitoEventUserPoolsPreTokenGenV2 {
        serde_json::from_value(json!({
            "version": "2",
            "triggerSource": "TokenGeneration_Authentication",
            "region": "eu-west-1",
            "userPoolId": "eu-west-1_example",
            "userName": "ops@example.com",
            "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": "client"},
            "request": {
                "userAttributes": attributes,
                "groupConfiguration": {"groupsToOverride": ["operators"], "iamRolesToOverride": [], "preferredRole": null},
                "scopes": ["openid", "email"]
            },
            "response": {"claimsAndScopeOverrideDetails": null}
        }))
        .unwrap()
    }

    #[tokio::test]
    async fn the_organisation_goes_into_the_access_token_only() {
        let out = handle(event(json!({"sub": "u-1", "custom:org": "acme"})))
            .await
            .unwrap();
        let response = serde_json::to_value(&out.response).unwrap();
        let details = &response["claimsAndScopeOverrideDetails"];
        assert_eq!(
            details["accessTokenGeneration"]["claimsToAddOrOverride"],
            json!({"custom:org": "acme"})
        );
        assert!(details["idTokenGeneration"].is_null());
    }

    #[tokio::test]
    async fn a_user_without_an_organisation_gets_the_token_unchanged() {
        for attributes in [json!({"sub": "u-2"}), json!({"sub": "u-3", "custom:org": "  "})] {
            let out = handle(event(attributes)).await.unwrap();
            assert_eq!(out.response.claims_and_scope_override_details, None);
        }
    }
}
