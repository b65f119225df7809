/**
 * A bar chart drawn on the server as SVG: an image with an accessible name and description, its
 * bars labelled, and the same figures in a table beside it (a screen reader, a print and a copy
 * read the table). No script, no style attribute: the CSP allows neither.
 */
import { type Lang, number } from './i18n.js';

export interface Bar {
  readonly label: string;
  /** A second line under the label (the year, under January and the first month). */
  readonly sub?: string;
  /** The label as said in full (the table's row header, the bar's title). */
  readonly long: string;
  readonly value: number;
}

const WIDTH = 720;
const HEIGHT = 240;
const LEFT = 56;
const BOTTOM = 36;
const TOP = 12;

/** A round step for the axis: 1, 2 or 5 times a power of ten. */
function step(max: number): number {
  const rough = Math.max(1, max) / 4;
  const power = 10 ** Math.floor(Math.log10(rough));
  return ([1, 2, 5, 10].find((m) => m * power >= rough) ?? 10) * power;
}

export function BarChart(props: {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly bars: readonly Bar[];
  readonly lang: Lang;
  readonly valueHeader: string;
  readonly labelHeader: string;
}) {
  const { bars, lang } = props;
  const max = Math.max(0, ...bars.map((b) => b.value));
  const unit = step(max);
  const top = Math.max(unit, Math.ceil(max / unit) * unit);
  const plotH = HEIGHT - TOP - BOTTOM;
  const slot = (WIDTH - LEFT) / Math.max(1, bars.length);
  const y = (v: number) => TOP + plotH - (v / top) * plotH;
  const ticks = Array.from({ length: Math.round(top / unit) + 1 }, (_, i) => i * unit);
  return (
    <figure class="chart">
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        width={WIDTH}
        height={HEIGHT}
        role="img"
        aria-labelledby={`${props.id}-title ${props.id}-desc`}
      >
        <title id={`${props.id}-title`}>{props.title}</title>
        <desc id={`${props.id}-desc`}>{props.description}</desc>
        {ticks.map((v) => (
          <g>
            <line class="axis" x1={LEFT - 4} x2={WIDTH} y1={y(v)} y2={y(v)} stroke-opacity="0.25" />
            <text x={LEFT - 8} y={y(v) + 4} text-anchor="end">
              {number(v, lang)}
            </text>
          </g>
        ))}
        {bars.map((b, i) => {
          const x = LEFT + i * slot + slot * 0.15;
          const h = (b.value / top) * plotH;
          return (
            <g>
              <rect class="bar" x={x} y={TOP + plotH - h} width={slot * 0.7} height={h}>
                <title>{`${b.long} — ${number(b.value, lang)}`}</title>
              </rect>
              <text x={x + slot * 0.35} y={HEIGHT - BOTTOM + 15} text-anchor="middle">
                {b.label}
              </text>
              {b.sub ? (
                <text x={x + slot * 0.35} y={HEIGHT - BOTTOM + 29} text-anchor="middle">
                  {b.sub}
                </text>
              ) : null}
            </g>
          );
        })}
        <line class="axis" x1={LEFT} x2={WIDTH} y1={TOP + plotH} y2={TOP + plotH} />
      </svg>
      <table>
        <caption>{props.title}</caption>
        <thead>
          <tr>
            <th scope="col">{props.labelHeader}</th>
            <th scope="col" class="n">
              {props.valueHeader}
            </th>
          </tr>
        </thead>
        <tbody>
          {bars.map((b) => (
            <tr>
              <th scope="row">{b.long}</th>
              <td class="n">{number(b.value, lang)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
