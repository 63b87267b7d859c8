import { fileURLToPath } from 'node:url';

/** The tcpdump project's captures, in shared/ beside the repository (NTA_TCPDUMP_CORPUS overrides). */
export const CORPUS_DIR = process.env.NTA_TCPDUMP_CORPUS ?? fileURLToPath(new URL('../../../shared/corpus/tcpdump', import.meta.url));
