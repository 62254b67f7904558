import test from 'ava';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { storeConformance } from './conformance.js';

const store = new MemoryStore();
storeConformance(test, 'memory', () => store, { bigSize: 64 * 1024 * 1024 });
