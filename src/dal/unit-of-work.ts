import { invalidArgument } from '../errors.js';
import type { DataAccessLayer } from './data-access-layer.js';

/**
 * A unit of work over `dal`: `unitOfWork(work)` builds repositories bound to one transaction
 * with `makeRepositories`, runs `work` with them, and commits all their writes when it
 * resolves or rolls all back when it throws.
 */
export function createUnitOfWork<R>(dal: DataAccessLayer, makeRepositories: (tx: DataAccessLayer) => R): <T>(work: (repos: R) => Promise<T>) => Promise<T> {
  return (work) => {
    if (typeof work !== 'function') return Promise.reject(invalidArgument('unitOfWork takes a callback', { field: 'work' }));
    return dal.transaction((tx) => work(makeRepositories(tx)));
  };
}
