import { useState, type FormEvent } from 'react';
import { Link, useParams } from 'wouter';
import { data } from '../../shared/api/client';
import { useApp } from '../../shared/context';
import { useResource } from '../../shared/hooks/useResource';
import { t } from '../../shared/i18n';
import { formatDateTime } from '../../shared/i18n/format';
import { Button } from '../../shared/ui/Button';
import { Icon } from '../../shared/ui/Icon';
import { ErrorBanner, Loaded } from '../../shared/ui/States';
import { useToast } from '../../shared/ui/Toast';

export function Organisation() {
  const { id } = useParams<{ id: string }>();
  const { api } = useApp();
  const toast = useToast();
  const organisation = useResource(() => data(api.GET('/v1/admin/organisations/{organisationId}', { params: { path: { organisationId: id } } })), [id]);
  const operators = useResource(
    () => data(api.GET('/v1/admin/organisations/{organisationId}/operators', { params: { path: { organisationId: id }, query: { limit: 100 } } })),
    [id],
  );
  const [name, setName] = useState<string | null>(null);
  const [subject, setSubject] = useState('');
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>();

  const act = async (what: string, call: () => Promise<unknown>, done: string) => {
    setBusy(what);
    setError(undefined);
    try {
      await call();
      toast(done);
      organisation.reload();
      operators.reload();
      return true;
    } catch (e) {
      setError(e);
      return false;
    } finally {
      setBusy(null);
    }
  };
  const rename = (event: FormEvent) => {
    event.preventDefault();
    if (name == null) return;
    void act(
      'rename',
      () => data(api.PATCH('/v1/admin/organisations/{organisationId}', { params: { path: { organisationId: id } }, body: { name: name.trim() } })),
      t('admin.orgs.saved', { name: name.trim() }),
    );
  };
  const add = async (event: FormEvent) => {
    event.preventDefault();
    const who = subject.trim();
    const ok = await act(
      'add',
      () => data(api.PUT('/v1/admin/organisations/{organisationId}/operators/{subject}', { params: { path: { organisationId: id, subject: who } } })),
      t('admin.ops.added', { subject: who, org: id }),
    );
    if (ok) setSubject('');
  };
  const remove = (who: string) =>
    void act(
      `remove-${who}`,
      () => data(api.DELETE('/v1/admin/organisations/{organisationId}/operators/{subject}', { params: { path: { organisationId: id, subject: who } } })),
      t('admin.ops.removed', { subject: who }),
    );

  return (
    <div className="page wide">
      <Link href="/admin/organisations" className="back">
        <Icon name="back" size={16} /> {t('admin.orgs.title')}
      </Link>
      <Loaded resource={organisation}>
        {(o) => (
          <div className="stack" style={{ ['--gap' as string]: '20px' }}>
            <div className="page-head">
              <div>
                <h1>{o.name}</h1>
                <p className="mono">{o.id}</p>
              </div>
            </div>
            <ErrorBanner error={error} />
            <form className="card row" onSubmit={rename}>
              <div className="field grow">
                <label htmlFor="org-rename">{t('admin.orgs.name')}</label>
                <input id="org-rename" required maxLength={200} value={name ?? o.name} onChange={(e) => setName(e.target.value)} />
              </div>
              <Button type="submit" busy={busy === 'rename'} className="align-end">
                {t('common.save')}
              </Button>
            </form>
            <section className="card flush" aria-labelledby="ops-title">
              <div className="card-head pad">
                <h2 id="ops-title">{t('admin.ops.title')}</h2>
              </div>
              <Loaded resource={operators}>
                {(page) =>
                  page.operators.length === 0 ? (
                    <p className="muted pad-all">{t('admin.ops.empty')}</p>
                  ) : (
                    <ul className="list">
                      {page.operators.map((op) => (
                        <li key={op.subject} className="list-item">
                          <Icon name="user" size={20} />
                          <span className="grow">
                            <strong className="mono">{op.subject}</strong>
                            <span className="muted small block">
                              {t('admin.ops.since')} {formatDateTime(op.since)}
                            </span>
                          </span>
                          <Button size="small" variant="danger-outline" busy={busy === `remove-${op.subject}`} onClick={() => remove(op.subject)}>
                            {t('admin.ops.remove')}
                          </Button>
                        </li>
                      ))}
                    </ul>
                  )
                }
              </Loaded>
              <form className="row pad-all add-operator" onSubmit={add}>
                <div className="field grow">
                  <label htmlFor="op-subject">{t('admin.ops.subject')}</label>
                  <input id="op-subject" required value={subject} onChange={(e) => setSubject(e.target.value)} aria-describedby="op-hint" />
                  <span id="op-hint" className="hint">
                    {t('admin.ops.subjectHint')}
                  </span>
                </div>
                <Button type="submit" variant="primary" icon="plus" busy={busy === 'add'}>
                  {t('admin.ops.add')}
                </Button>
              </form>
            </section>
          </div>
        )}
      </Loaded>
    </div>
  );
}
