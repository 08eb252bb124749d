import { useState, type FormEvent } from 'react';
import { Link, useLocation } from 'wouter';
import { data } from '../../shared/api/client';
import { useApp } from '../../shared/context';
import { useResource } from '../../shared/hooks/useResource';
import { t } from '../../shared/i18n';
import { formatDateTime } from '../../shared/i18n/format';
import { Button } from '../../shared/ui/Button';
import { Dialog } from '../../shared/ui/Dialog';
import { EmptyState, ErrorBanner, Loaded } from '../../shared/ui/States';
import { useToast } from '../../shared/ui/Toast';

export function Organisations() {
  const { api } = useApp();
  const toast = useToast();
  const [, navigate] = useLocation();
  const organisations = useResource(() => data(api.GET('/v1/admin/organisations', { params: { query: { limit: 100 } } })), []);
  const [creating, setCreating] = useState(false);
  const [form, setForm] = useState({ id: '', name: '' });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const create = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const created = await data(api.POST('/v1/admin/organisations', { body: { id: form.id.trim(), name: form.name.trim() } }));
      toast(t('admin.orgs.saved', { name: created.name }));
      setCreating(false);
      navigate(`/admin/organisations/${encodeURIComponent(created.id)}`);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="page wide">
      <div className="page-head">
        <div>
          <h1>{t('admin.orgs.title')}</h1>
          <p>{t('admin.orgs.subtitle')}</p>
        </div>
        <Button variant="primary" icon="plus" onClick={() => setCreating(true)}>
          {t('admin.orgs.add')}
        </Button>
      </div>
      <Loaded resource={organisations}>
        {(page) =>
          page.organisations.length === 0 ? (
            <div className="card">
              <EmptyState icon="building" title={t('admin.orgs.empty.title')}>
                {t('admin.orgs.empty.text')}
              </EmptyState>
            </div>
          ) : (
            <div className="card flush table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">{t('admin.orgs.name')}</th>
                    <th scope="col">{t('admin.orgs.id')}</th>
                    <th scope="col" className="hide-mobile">
                      {t('admin.orgs.created')}
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {page.organisations.map((o) => (
                    <tr key={o.id}>
                      <td>
                        <Link href={`/admin/organisations/${encodeURIComponent(o.id)}`}>{o.name}</Link>
                      </td>
                      <td className="mono">{o.id}</td>
                      <td className="hide-mobile">{formatDateTime(o.createdAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Loaded>
      <Dialog open={creating} title={t('admin.orgs.add')} onClose={() => setCreating(false)}>
        <form className="stack" onSubmit={create}>
          <div className="field">
            <label htmlFor="org-id">{t('admin.orgs.id')}</label>
            <input id="org-id" required maxLength={64} value={form.id} onChange={(e) => setForm({ ...form, id: e.target.value })} aria-describedby="org-id-hint" />
            <span id="org-id-hint" className="hint">
              {t('admin.orgs.idHint')}
            </span>
          </div>
          <div className="field">
            <label htmlFor="org-name">{t('admin.orgs.name')}</label>
            <input id="org-name" required maxLength={200} value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
          </div>
          <ErrorBanner error={error} />
          <div className="dialog-actions">
            <Button onClick={() => setCreating(false)}>{t('common.cancel')}</Button>
            <Button type="submit" variant="primary" busy={busy}>
              {t('common.save')}
            </Button>
          </div>
        </form>
      </Dialog>
    </div>
  );
}
