import { t } from '../shared/i18n';
import { Icon } from '../shared/ui/Icon';

export function Logo() {
  return (
    <span className="logo">
      <span className="logo-mark" aria-hidden="true">
        <Icon name="bolt" size={18} />
      </span>
      {t('driver.name')}
    </span>
  );
}
