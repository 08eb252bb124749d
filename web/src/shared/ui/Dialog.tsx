import { useEffect, useId, useRef, type ReactNode } from 'react';
import { t } from '../i18n';
import { Button } from './Button';

/** A modal dialog on the native <dialog>: focus moves in and back, Escape closes it. */
export function Dialog({ open, title, onClose, children }: { open: boolean; title: string; onClose: () => void; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog ref={ref} aria-labelledby={titleId} onClose={onClose} onCancel={onClose}>
      {open && (
        <div className="dialog-body">
          <div className="dialog-head">
            <h2 id={titleId}>{title}</h2>
            <Button variant="ghost" icon="close" aria-label={t('common.close')} onClick={onClose} />
          </div>
          {children}
        </div>
      )}
    </dialog>
  );
}
