import { Link } from '@tanstack/react-router';
import { t } from '../i18n';
import { Page } from '../components/ui';

export function NotFound() {
  return (
    <Page title={t('notFound.title')}>
      <Link to="/backends" className="text-accent underline">
        {t('nav.backends')}
      </Link>
    </Page>
  );
}
