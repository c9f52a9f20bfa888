import { createMemoryRepositories } from '../../src/repositories/index.js';
import { repositoryContract } from './contract.js';

repositoryContract('in-memory twins', async (options) => {
  const layer = createMemoryRepositories(options);
  return { repos: layer.repos, unitOfWork: layer.unitOfWork, close: async () => undefined };
});
