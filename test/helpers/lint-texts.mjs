// Lints several virtual files in one ESLint run (ESLint's API is ESM, so the jest test calls this
// script in a child process). Input on stdin: [{ filePath, code }]. Output: the messages per file.
import { ESLint } from 'eslint';

const input = JSON.parse(await new Promise((resolve) => {
  let text = '';
  process.stdin.on('data', (d) => (text += d));
  process.stdin.on('end', () => resolve(text));
}));
const eslint = new ESLint({ cwd: process.cwd() });
const results = [];
for (const { filePath, code } of input) {
  const [result] = await eslint.lintText(code, { filePath });
  results.push((result?.messages ?? []).map((m) => ({ ruleId: m.ruleId, message: m.message })));
}
process.stdout.write(JSON.stringify(results));
