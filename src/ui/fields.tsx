/**
 * What the console's forms about a person share: the field of an e-mail address (sent in a POST
 * body only, never in a URL), and a refused action's notice and status for the page shown again.
 */
import { RegistreError } from '../core/errors.js';
import type { Notice } from './layout.js';
import { failure, statusOf, type UiContext } from './render.js';

/** An e-mail address's label and field, with an optional hint under it. */
export function AddressField(props: { id: string; label: string; value?: string; hint?: string }) {
  return (
    <>
      <label for={props.id}>{props.label}</label>
      <input
        id={props.id}
        name="email"
        type="email"
        required
        autocomplete="off"
        value={props.value ?? ''}
        {...(props.hint ? { 'aria-describedby': `${props.id}-hint` } : {})}
      />
      {props.hint ? (
        <p class="hint" id={`${props.id}-hint`}>
          {props.hint}
        </p>
      ) : null}
    </>
  );
}

/** A refused action: the notice and status its page is shown again with (anything else is thrown on). */
export function refusal(
  c: UiContext,
  error: unknown,
): { notice: Notice; status: ReturnType<typeof statusOf> } {
  if (!(error instanceof RegistreError)) throw error;
  return { notice: failure(c, error), status: statusOf(error) };
}
