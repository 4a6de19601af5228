// Markdown for the terminal: marked with marked-terminal (headings, highlighted code, tables).
// Loaded only when something is rendered, so that commands that print none start fast.
import './ui.js'; // colour choice (NO_COLOR) before marked-terminal picks its styles

let renderer: ((md: string) => string) | undefined;

export async function renderMarkdown(md: string, width = terminalWidth()): Promise<string> {
  if (!renderer) {
    const { Marked } = await import('marked');
    const { markedTerminal } = await import('marked-terminal');
    const marked = new Marked();
    marked.use(markedTerminal({ width, reflowText: true, showSectionPrefix: false, tab: 2 }) as never);
    renderer = (text: string) => marked.parse(text, { async: false }) as string;
  }
  return renderer(md).replace(/\n{3,}/g, '\n\n').replace(/\s+$/, '') + '\n';
}

export function terminalWidth(): number {
  return Math.max(40, Math.min(process.stdout.columns || 80, 100));
}
