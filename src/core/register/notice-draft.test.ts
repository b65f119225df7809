import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { RegistreError } from '../errors.js';
import { noticeDraftYaml } from './notice-draft.js';
import type { RegisterFile } from './register-schema.js';

const draft = {
  activities: [{ id: 'orders' }, { id: 'newsletter' }],
  retention: [{ id: 'r1' }, { id: 'r2', todo: 'as long as needed' }],
} as unknown as RegisterFile;

describe('noticeDraftYaml', () => {
  it('heads the YAML with its source and the next step, and counts what is left as todo', () => {
    const yaml = noticeDraftYaml(draft, { file: 'notice.html', format: 'html', out: 'draft.yaml' });
    expect(yaml.text.split('\n').slice(0, 2)).toEqual([
      '# Draft register imported from notice.html (html) by registre import-notice.',
      '# Review every TODO, then run: registre validate draft.yaml',
    ]);
    expect(parse(yaml.text)).toEqual(draft);
    expect(yaml).toMatchObject({ activities: 2, retention: 2, todos: 1 });
  });

  it('names a placeholder file when the draft goes to standard output', () => {
    const yaml = noticeDraftYaml(draft, { file: 'notice.txt', format: 'text' });
    expect(yaml.text).toContain('then run: registre validate this-file.yaml\n');
  });

  it('refuses a notice with no activity: E_NOTICE_EMPTY, with the file and how it was read', () => {
    const empty = () => noticeDraftYaml({} as RegisterFile, { file: 'page.html', format: 'html' });
    expect(empty).toThrow(RegistreError);
    expect(empty).toThrow(
      'page.html (read as html) holds no table row with purposes: is it the privacy table?',
    );
  });
});
