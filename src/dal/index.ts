export { DataAccessLayer, type SqlSession } from './data-access-layer.js';
export { createUnitOfWork } from './unit-of-work.js';
