// Worker entry: exposes the one TrainerApi object through Comlink. Nothing else runs here.
import * as Comlink from 'comlink';
import { openLatheDb } from '../shared/db';
import { chooseBackend } from './backend';
import { createTrainerApi } from './trainer-api';

const api = createTrainerApi({ openDb: () => openLatheDb(), selectBackend: chooseBackend });

export type WorkerApi = typeof api;

Comlink.expose(api);
