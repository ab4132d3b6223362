/**
 * "Why this score" in the lead drawer: each rule's contribution (they sum to the score) and the
 * learned model's win probability when the organization has one.
 */
import type { ScoreContribution } from '../../src/modules/pipeline/pipeline.table'
import type { Ui } from '../ui'

export interface ScoreExplainProps {
  ui: Ui
  score: number
  detail: ScoreContribution[]
  winProbability: number | null
  scoredAt: Date | null
}

const signed = (n: number) => (n > 0 ? `+${n}` : n < 0 ? `−${Math.abs(n)}` : '0')

export function ScoreExplain(p: ScoreExplainProps) {
  const { ui } = p
  const { t } = ui
  const max = Math.max(1, ...p.detail.map((d) => Math.abs(d.points)))
  const prob = p.winProbability == null ? null : Math.round(p.winProbability * 100)
  return (
    <section
      class="drawer-section score-explain"
      aria-labelledby="score-why-title"
      data-testid="score-explain"
    >
      <div class="section-head">
        <h3 id="score-why-title" safe>
          {t('scoring.why.title')}
        </h3>
        <span class="score-total" data-testid="score-total" safe>
          {signed(p.score)}
        </span>
      </div>
      {p.detail.length ? (
        <ul class="why-list">
          {p.detail.map((d) => (
            <li class={`why-item ${d.points > 0 ? 'pos' : 'neg'}`} data-rule-id={d.ruleId}>
              <span class="why-label" safe>
                {d.ruleId === 'limit' ? t('scoring.why.limit') : d.label}
              </span>
              <span class="why-bar" aria-hidden="true">
                <span
                  class="why-fill"
                  style={`width:${Math.max(4, Math.round((Math.abs(d.points) / max) * 100))}%`}
                ></span>
              </span>
              <span class="why-points" safe>
                {signed(d.points)}
              </span>
            </li>
          ))}
        </ul>
      ) : (
        <p class="subtle" safe>
          {p.scoredAt ? t('scoring.why.none') : t('scoring.why.manual')}
        </p>
      )}
      {prob !== null ? (
        <div class="why-model" data-testid="win-probability">
          <span safe>{t('scoring.why.probability')}</span>
          <span class="prob-meter" aria-hidden="true">
            <span class="prob-fill" style={`width:${prob}%`}></span>
          </span>
          <strong safe>{`${prob}%`}</strong>
        </div>
      ) : (
        ''
      )}
    </section>
  )
}
