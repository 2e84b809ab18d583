// Unit tests run in Node: IndexedDB comes from fake-indexeddb, tfjs runs on its cpu backend.
import 'fake-indexeddb/auto';
