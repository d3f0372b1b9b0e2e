/** The 30-day conformity trend (recharts, loaded on demand). */
import { Area, AreaChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatDate } from '../format';
import type { Lang } from '../i18n';

export interface TrendPoint {
  day: string;
  /** Conformity in percent, one decimal. */
  pct: number;
  devices: number;
}

export default function TrendChart({ data, lang, label }: { data: TrendPoint[]; lang: Lang; label: string }) {
  return (
    <div className="chart" data-testid="trend-chart">
      <ResponsiveContainer width="100%" height={240}>
        <AreaChart data={data} margin={{ top: 8, right: 12, bottom: 0, left: 0 }}>
          <defs>
            <linearGradient id="conf-fill" x1="0" y1="0" x2="0" y2="1">
              <stop offset="0%" stopColor="#2f6fde" stopOpacity={0.28} />
              <stop offset="100%" stopColor="#2f6fde" stopOpacity={0.02} />
            </linearGradient>
          </defs>
          <CartesianGrid stroke="#e6e9ef" vertical={false} />
          <XAxis dataKey="day" tickFormatter={(d: string) => formatDate(d, lang).replace(/\s?\d{4}$/, '')} tick={{ fontSize: 11, fill: '#5f6b7a' }} tickLine={false} axisLine={false} minTickGap={24} />
          <YAxis domain={[0, 100]} tickFormatter={(v: number) => (lang === 'fr' ? `${v} %` : `${v}%`)} tick={{ fontSize: 11, fill: '#5f6b7a' }} tickLine={false} axisLine={false} width={52} />
          <Tooltip formatter={(v) => [`${String(v)} %`, label]} labelFormatter={(d) => formatDate(String(d), lang)} />
          <Area type="monotone" dataKey="pct" stroke="#2f6fde" strokeWidth={2} fill="url(#conf-fill)" isAnimationActive={false} />
        </AreaChart>
      </ResponsiveContainer>
    </div>
  );
}
