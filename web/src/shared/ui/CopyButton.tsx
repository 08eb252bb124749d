import { useState } from 'react';
import { t } from '../i18n';
import { Button } from './Button';

/** Copies `value` to the clipboard and says so. */
export function CopyButton({ value, label = t('common.copy') }: { value: string; label?: string }) {
  const [copied, setCopied] = useState<boolean | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(true);
    } catch {
      setCopied(false);
    }
    setTimeout(() => setCopied(null), 2500);
  };
  return (
    <>
      <Button size="small" icon={copied ? 'check' : 'copy'} onClick={copy}>
        {copied ? t('common.copied') : label}
      </Button>
      <span className="sr-only" role="status">
        {copied === true ? t('common.copied') : copied === false ? t('common.copyFailed') : ''}
      </span>
    </>
  );
}
