//! The pile channel through API Gateway's `@connections` management API.

use async_trait::async_trait;
use aws_sdk_apigatewaymanagement::operation::delete_connection::DeleteConnectionError;
use aws_sdk_apigatewaymanagement::operation::post_to_connection::PostToConnectionError;
use aws_sdk_apigatewaymanagement::primitives::Blob;
use csms_domain::ports::{ChannelError, StationChannel};

pub struct ApiGatewayChannel {
    client: Option<aws_sdk_apigatewaymanagement::Client>,
}

impl ApiGatewayChannel {
    pub fn new(sdk: &aws_config::SdkConfig, endpoint: Option<String>) -> Self {
        let client = endpoint.map(|url| {
            let config = aws_sdk_apigatewaymanagement::config::Builder::from(sdk)
                .endpoint_url(url)
                .build();
            aws_sdk_apigatewaymanagement::Client::from_conf(config)
        });
        Self { client }
    }

    fn client(&self) -> Result<&aws_sdk_apigatewaymanagement::Client, ChannelError> {
        self.client
            .as_ref()
            .ok_or_else(|| ChannelError("CONNECTIONS_ENDPOINT is not set".into()))
    }
}

#[async_trait]
impl StationChannel for ApiGatewayChannel {
    #[tracing::instrument(skip(self))]
    async fn close(&self, connection_id: &str) -> Result<bool, ChannelError> {
        match self
            .client()?
            .delete_connection()
            .connection_id(connection_id)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            // 410: the pile is already gone.
            Err(e) if matches!(e.as_service_error(), Some(DeleteConnectionError::GoneException(_))) => Ok(false),
            Err(e) => Err(ChannelError(e.into())),
        }
    }

    #[tracing::instrument(skip(self, text))]
    async fn send(&self, connection_id: &str, text: &str) -> Result<bool, ChannelError> {
        match self
            .client()?
            .post_to_connection()
            .connection_id(connection_id)
            .data(Blob::new(text.as_bytes()))
            .send()
            .await
        {
            Ok(_) => Ok(true),
            // 410: the pile is gone; the frame was not delivered.
            Err(e) if matches!(e.as_service_error(), Some(PostToConnectionError::GoneException(_))) => Ok(false),
            Err(e) => Err(ChannelError(e.into())),
        }
    }
}
