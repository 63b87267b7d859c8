// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { QueryBar, checkQuery } from './QueryBar.js';

afterEach(cleanup);

function setup(value = '', serverError: { message: string; position?: number } | null = null) {
  const onSubmit = vi.fn();
  const user = userEvent.setup();
  render(<QueryBar value={value} onSubmit={onSubmit} serverError={serverError} />);
  const input = screen.getByRole('combobox', { name: 'Filter' }) as HTMLInputElement;
  return { onSubmit, user, input };
}

describe('QueryBar', () => {
  it('applies a valid filter with Enter and with the Apply button, without an error', async () => {
    const { onSubmit, user, input } = setup();
    await user.type(input, 'proto:tcp and dport:443');
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('alert')).toBeNull();
    expect(input.getAttribute('aria-invalid')).toBeNull();
    await user.keyboard('{Enter}');
    expect(onSubmit).toHaveBeenLastCalledWith('proto:tcp and dport:443');
    await user.clear(input);
    await user.type(input, 'not level:normal');
    await user.keyboard('{Escape}');
    await user.click(screen.getByRole('button', { name: 'Apply' }));
    expect(onSubmit).toHaveBeenLastCalledWith('not level:normal');
  });

  it('shows a syntax error inline, where it is, and will not apply it', async () => {
    const { onSubmit, user, input } = setup();
    await user.type(input, 'proto:tcp and dport:99999');
    const alert = screen.getByTestId('query-error');
    const check = checkQuery('proto:tcp and dport:99999');
    expect(check.ok).toBe(false);
    // The message is the parser's, with its 1-based column.
    expect(alert.textContent).toContain(check.message);
    expect(alert.textContent).toContain(`at ${check.position! + 1}:`);
    expect(check.position).toBe('proto:tcp and dport:'.length);
    // The underline starts at the offending value.
    const mark = screen.getByTestId('query-error-mark');
    expect(mark.style.left).toContain(`${check.position}ch`);
    expect(input.getAttribute('aria-invalid')).toBe('true');
    expect((screen.getByRole('button', { name: 'Apply' }) as HTMLButtonElement).disabled).toBe(true);
    await user.keyboard('{Escape}{Enter}');
    expect(onSubmit).not.toHaveBeenCalled();
  });

  it('reports unknown fields and unbalanced parentheses with the parser message', async () => {
    const { user, input } = setup();
    await user.type(input, 'protp:tcp');
    expect(screen.getByTestId('query-error').textContent).toMatch(/protp/);
    await user.clear(input);
    await user.type(input, '(proto:tcp or proto:udp');
    expect(screen.getByTestId('query-error').textContent).toMatch(/\)|parenthes/i);
  });

  it('completes field names, then values, from the language catalogue', async () => {
    const { onSubmit, user, input } = setup();
    await user.type(input, 'dp');
    const list = screen.getByRole('listbox', { name: 'Suggestions' });
    const options = within(list).getAllByRole('option').map((o) => o.textContent ?? '');
    expect(options[0]).toMatch(/^dport/);
    await user.keyboard('{Tab}');
    expect(input.value).toBe('dport:');
    await user.clear(input);
    await user.type(input, 'proto:u');
    const values = within(screen.getByRole('listbox')).getAllByRole('option').map((o) => o.querySelector('span')?.textContent);
    expect(values).toEqual(['udp']);
    await user.keyboard('{Tab}');
    expect(input.value).toBe('proto:udp');
    // The value closed the list: Enter now applies.
    await user.keyboard('{Enter}');
    expect(onSubmit).toHaveBeenLastCalledWith('proto:udp');
  });

  it('moves through suggestions with the arrow keys and accepts with a click', async () => {
    const { user, input } = setup();
    await user.type(input, 'level:');
    const options = within(screen.getByRole('listbox')).getAllByRole('option');
    expect(options.map((o) => o.querySelector('span')?.textContent)).toEqual(['normal', 'suspicious', 'malicious']);
    await user.keyboard('{ArrowDown}{ArrowDown}{ArrowDown}');
    expect(options[2]!.getAttribute('aria-selected')).toBe('true');
    await user.keyboard('{Enter}');
    expect(input.value).toBe('level:malicious');
    await user.clear(input);
    await user.type(input, 'country:pri');
    await user.click(within(screen.getByRole('listbox')).getByText('private'));
    expect(input.value).toBe('country:private');
  });

  it('Enter applies what was typed while suggestions are showing, unless one was picked with the arrows', async () => {
    const { onSubmit, user, input } = setup();
    await user.type(input, 'proto:tcp ');
    // Suggestions for the next field are on screen, but nothing was picked.
    expect(screen.getByRole('listbox')).toBeTruthy();
    await user.keyboard('{Enter}');
    expect(input.value).toBe('proto:tcp ');
    expect(onSubmit).toHaveBeenLastCalledWith('proto:tcp');
    // Focusing the box does not open suggestions, so Tab moves on.
    await user.clear(input);
    await user.keyboard('{Escape}');
    await user.tab();
    await user.tab({ shift: true });
    expect(screen.queryByRole('listbox')).toBeNull();
  });

  it('shows an error the server reported for the applied filter until it is edited', async () => {
    const { user, input } = setup('host:web-1', { message: 'host: no such agent', position: 5 });
    expect(screen.getByTestId('query-error').textContent).toContain('host: no such agent');
    await user.type(input, 'x');
    expect(screen.queryByTestId('query-error')).toBeNull();
  });
});
