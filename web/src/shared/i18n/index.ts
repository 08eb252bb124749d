/**
 * Every string people read, in one place per language, ready for translation. `t('key', {name})`
 * fills `{name}`; an entry with `one`/`other` forms is chosen by the `count` variable with the
 * locale's plural rules.
 */
import { en, type Messages } from './en';
import { locale } from './format';

export type MessageKey = keyof Messages;
type Vars = Record<string, string | number>;

const catalogues: Record<string, Messages> = { en };

function catalogue(): Messages {
  return catalogues[locale().split('-')[0]] ?? en;
}

export function t(key: MessageKey, vars: Vars = {}): string {
  const entry = catalogue()[key] ?? en[key];
  let text: string;
  if (typeof entry === 'string') {
    text = entry;
  } else {
    const form = new Intl.PluralRules(locale()).select(Number(vars.count ?? 0)) as keyof typeof entry;
    text = entry[form] ?? entry.other;
  }
  return text.replace(/\{(\w+)\}/g, (_, name: string) => String(vars[name] ?? `{${name}}`));
}

/** A connector or station status as the OCPP words name it, in the user's language. */
export function statusLabel(status: string): string {
  const key = `status.${status}` as MessageKey;
  return key in en ? t(key) : status;
}

/** An OCPP 2.0.1 ConnectorEnumType word as drivers know the plug. */
export function connectorLabel(type: string | null | undefined): string {
  if (!type) return t('connector.undeclared');
  const key = `connector.${type}` as MessageKey;
  return key in en ? t(key) : type;
}
