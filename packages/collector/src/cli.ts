#!/usr/bin/env node
// Placeholder until the service lands: the collector is under construction.
console.error('nta-collector: not built yet');
process.exit(2);
