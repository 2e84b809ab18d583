// Worker entry: exposes the one TrainerApi object through Comlink. Nothing else runs here.
import * as Comlink from 'comlink';
import { openLatheDb } from '../shared/db';
import { selectBackend } from './backend';
import { createTrainerApi } from './trainer-api';

const api = createTrainerApi({ openDb: () => openLatheDb(), selectBackend });

export type WorkerApi = typeof api;

Comlink.expose(api);
