/**
 * Preloaded into a benchmark's child (`node --import <this file>`): at exit, writes the process's peak
 * RSS in KiB to the file named by FB_BENCH_RSS_FILE, so a parent can report the child's own peak
 * without /usr/bin/time. No effect when the variable is unset.
 */
import { writeFileSync } from 'node:fs';

const file = process.env.FB_BENCH_RSS_FILE;
if (file) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS)));
