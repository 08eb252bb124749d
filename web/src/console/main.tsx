import { start } from '../shared/Boot';
import { App } from './App';
import { Welcome } from './pages/Welcome';
import './console.css';

start('/console/', (signIn) => <Welcome onSignIn={signIn} />, <App />);
