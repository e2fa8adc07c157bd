import { useId, useRef, useState, type DragEvent } from 'react';
import { useAppStore } from '../store/useAppStore';
import { TokenCounter } from './TokenCounter';

const ACCEPTED = '.txt,.md,.markdown,text/plain,text/markdown';

async function readTextFile(file: File): Promise<string> {
  if (file.type && !file.type.startsWith('text/') && !/\.(txt|md|markdown)$/i.test(file.name)) {
    throw new Error(`${file.name} is not a text file. Open a .txt or .md file, or paste the text.`);
  }
  return file.text();
}

/** The document: paste it, drop a file on it, or open a .txt/.md file; shows the live token count. */
export function DocumentPanel() {
  const ids = { text: useId(), file: useId() };
  const document = useAppStore((state) => state.document);
  const documentName = useAppStore((state) => state.documentName);
  const hasTurns = useAppStore((state) => state.turns.length > 0);
  const fileInput = useRef<HTMLInputElement>(null);
  const [dragging, setDragging] = useState(false);

  const openFile = async (file: File | undefined) => {
    if (!file) return;
    try {
      useAppStore.getState().setDocument(await readTextFile(file), file.name);
    } catch (error) {
      useAppStore.getState().showError({ kind: 'load', message: (error as Error).message });
    }
  };

  const onDrop = (event: DragEvent<HTMLTextAreaElement>) => {
    if (event.dataTransfer.files.length === 0) return;
    event.preventDefault();
    setDragging(false);
    void openFile(event.dataTransfer.files[0]);
  };

  return (
    <section className="panel document-panel" aria-labelledby="document-heading">
      <div className="panel-header">
        <h2 id="document-heading">Document{documentName ? `: ${documentName}` : ''}</h2>
        <div className="actions">
          <label htmlFor={ids.file} className="button">
            Open .txt / .md
          </label>
          <input
            id={ids.file}
            ref={fileInput}
            className="visually-hidden"
            type="file"
            accept={ACCEPTED}
            data-testid="document-file-input"
            onChange={(event) => {
              void openFile(event.target.files?.[0]);
              event.target.value = '';
            }}
          />
          <button type="button" data-testid="clear-document" onClick={() => useAppStore.getState().setDocument('')} disabled={document === ''}>
            Clear
          </button>
        </div>
      </div>
      <label htmlFor={ids.text} className="visually-hidden">
        Document text
      </label>
      <textarea
        id={ids.text}
        data-testid="document-input"
        className={dragging ? 'dragging' : undefined}
        placeholder="Paste a long document here, or drop a .txt or .md file."
        value={document}
        spellCheck={false}
        onChange={(event) => useAppStore.getState().setDocument(event.target.value)}
        onDragOver={(event) => {
          if (event.dataTransfer.types.includes('Files')) {
            event.preventDefault();
            setDragging(true);
          }
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      />
      {hasTurns && <p className="hint">Editing the document changes the first question's prompt, so the next answer prefills it again.</p>}
      <TokenCounter />
    </section>
  );
}
