/** A table of the console: its headers (a figure's column right-aligned), its rows, an optional caption. */
import type { Child } from 'hono/jsx';

export interface Column {
  readonly label: string;
  /** A column of figures: right-aligned, tabular digits. */
  readonly numeric?: boolean;
}

export function Table(props: {
  readonly columns: readonly Column[];
  readonly rows: readonly (readonly Child[])[];
  readonly caption?: string;
  /** A class per row (`bad` for an overdue one), by index. */
  readonly rowClass?: (index: number) => string | undefined;
  readonly id?: string;
}) {
  return (
    <table {...(props.id ? { id: props.id } : {})}>
      {props.caption ? <caption>{props.caption}</caption> : null}
      <thead>
        <tr>
          {props.columns.map((c) => (
            <th scope="col" {...(c.numeric ? { class: 'n' } : {})}>
              {c.label}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.rows.map((cells, i) => {
          const cls = props.rowClass?.(i);
          return (
            <tr {...(cls ? { class: cls } : {})}>
              {cells.map((cell, j) => (
                <td {...(props.columns[j]?.numeric ? { class: 'n' } : {})}>{cell}</td>
              ))}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
