#!/usr/bin/env node
// Fails when a code excerpt in book/ no longer matches the region of lib/ or native/ it quotes.
// (Build first: it uses the compiled lab, dist/lib/lab/book.js.)
import { main } from '../dist/lib/lab/cli.js';
process.exitCode = await main(['check-book']);
