import { start } from '../shared/Boot';
import { App } from './App';
import { Welcome } from './pages/Welcome';
import './driver.css';

start('/', (signIn) => <Welcome onSignIn={signIn} />, <App />);

// Installable and quick to reopen: the service worker keeps the app shell (never API data).
if ('serviceWorker' in navigator && import.meta.env.PROD) {
  void navigator.serviceWorker.register('/sw.js', { scope: '/' });
}
