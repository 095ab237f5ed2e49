"""The report as one self-contained HTML page with inline SVG charts (no script, no network)."""
from __future__ import annotations

from html import escape

from bot.analytics.figures import Report
from bot.analytics.render import (
    CHANNEL_LABELS,
    WEEKDAYS,
    feedback_tables,
    flow_label,
    percent,
    period_label,
    reason_label,
    topic_label,
    tried_label,
)

TOP_INTENTS = 10
ACCENT = "#00587c"
STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1b1b;background:#f5f7f8}
header{background:#00587c;color:#fff;padding:1.2rem 2rem}header h1{margin:0;font-size:1.5rem}
header p{margin:.3rem 0 0}main{padding:1rem 2rem;max-width:1100px}
.kpis{display:flex;flex-wrap:wrap;gap:1rem;margin:1rem 0}
.kpi{background:#fff;border-radius:6px;padding:.8rem 1.2rem;min-width:10rem;box-shadow:0 1px 3px #0002}
.kpi b{display:block;font-size:1.6rem}.kpi span{color:#444}
section{background:#fff;border-radius:6px;padding:1rem 1.2rem;margin:1rem 0;box-shadow:0 1px 3px #0002}
h2{font-size:1.15rem;margin:0 0 .6rem}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #ddd;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}svg{max-width:100%;height:auto}
svg text{font-size:11px;fill:#333}.empty{color:#666;font-style:italic}
"""


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
        + "".join(body)
        + "</svg>"
    )


def _empty() -> str:
    return '<p class="empty">Aucune donnée pour cette période.</p>'


def volume_chart(report: Report) -> str:
    """Conversations per day, as vertical bars."""
    if not report.days:
        return _empty()
    width, height, left, bottom = 760, 220, 40, 40
    step = (width - left - 10) / len(report.days)
    largest = max(day.conversations for day in report.days) or 1
    body = [f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" y2="{height - bottom}" stroke="#999"/>',
            f'<text x="{left - 6}" y="18" text-anchor="end">{largest}</text>',
            f'<text x="{left - 6}" y="{height - bottom}" text-anchor="end">0</text>']
    label_every = max(1, len(report.days) // 12)
    for index, day in enumerate(report.days):
        bar = (height - bottom - 14) * day.conversations / largest
        x = left + index * step
        bar_width = min(step * 0.7, 48)
        body.append(
            f'<rect x="{x + (step - bar_width) / 2:.1f}" y="{height - bottom - bar:.1f}" width="{bar_width:.1f}" '
            f'height="{bar:.1f}" fill="{ACCENT}"><title>{day.day.isoformat()} : '
            f"{day.conversations} conversations, {day.messages} messages</title></rect>"
        )
        if index % label_every == 0:
            body.append(
                f'<text x="{x + step / 2:.1f}" y="{height - bottom + 14}" text-anchor="middle">'
                f"{day.day.strftime('%m-%d')}</text>"
            )
    return _svg(width, height, "Conversations par jour", body)


def containment_chart(report: Report) -> str:
    """Share of each day's conversations settled without a person, as a line from 0 to 100 %."""
    days = [day for day in report.days if day.conversations]
    if not days:
        return _empty()
    width, height, left, bottom = 760, 220, 40, 40
    step = (width - left - 50) / (len(days) - 1) if len(days) > 1 else 0
    plot = height - bottom - 14

    def y_of(rate: float) -> float:
        return height - bottom - plot * rate

    body = [f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" y2="{height - bottom}" stroke="#999"/>']
    for rate in (0.0, 0.5, 1.0):
        body.append(f'<line x1="{left}" y1="{y_of(rate):.1f}" x2="{width - 10}" y2="{y_of(rate):.1f}" '
                    'stroke="#ddd" stroke-dasharray="3 3"/>')
        body.append(f'<text x="{left - 6}" y="{y_of(rate) + 4:.1f}" text-anchor="end">{int(rate * 100)} %</text>')
    points = []
    label_every = max(1, len(days) // 12)
    for index, day in enumerate(days):
        x = left + 10 + index * step
        rate = day.contained / day.conversations
        points.append(f"{x:.1f},{y_of(rate):.1f}")
        body.append(f'<circle cx="{x:.1f}" cy="{y_of(rate):.1f}" r="3.5" fill="{ACCENT}"><title>'
                    f"{day.day.isoformat()} : {escape(percent(rate))} ({day.contained}/{day.conversations})"
                    "</title></circle>")
        if index % label_every == 0:
            body.append(f'<text x="{x:.1f}" y="{height - bottom + 14}" text-anchor="middle">'
                        f"{day.day.strftime('%m-%d')}</text>")
    body.insert(1, f'<polyline points="{" ".join(points)}" fill="none" stroke="{ACCENT}" stroke-width="2"/>')
    return _svg(width, height, "Rétention par jour", body)


def intents_chart(report: Report) -> str:
    """The most frequent intents, as horizontal bars."""
    intents = report.intents[:TOP_INTENTS]
    if not intents:
        return _empty()
    row, left, width = 24, 210, 760
    height = row * len(intents) + 10
    largest = intents[0][1]
    body = []
    for index, (intent, count) in enumerate(intents):
        y = 5 + index * row
        bar = (width - left - 60) * count / largest
        body.append(f'<text x="{left - 8}" y="{y + 15}" text-anchor="end">{escape(intent)}</text>')
        body.append(f'<rect x="{left}" y="{y + 3}" width="{bar:.1f}" height="{row - 8}" fill="{ACCENT}"/>')
        body.append(f'<text x="{left + bar + 6:.1f}" y="{y + 15}">{count}</text>')
    return _svg(width, height, "Intentions les plus fréquentes", body)


def heatmap_chart(report: Report) -> str:
    """Messages per weekday and hour (local time), darker when busier."""
    largest = max(max(row) for row in report.heatmap)
    if not largest:
        return _empty()
    cell, left, top = 28, 40, 20
    width, height = left + 24 * cell + 10, top + 7 * cell + 10
    body = [f'<text x="{left + hour * cell + cell / 2}" y="{top - 6}" text-anchor="middle">{hour}</text>'
            for hour in range(0, 24, 2)]
    for weekday, counts in enumerate(report.heatmap):
        y = top + weekday * cell
        body.append(f'<text x="{left - 6}" y="{y + cell / 2 + 4}" text-anchor="end">{WEEKDAYS[weekday]}</text>')
        for hour, count in enumerate(counts):
            opacity = 0.06 + 0.94 * count / largest if count else 0.03
            body.append(
                f'<rect x="{left + hour * cell}" y="{y}" width="{cell - 2}" height="{cell - 2}" fill="{ACCENT}" '
                f'fill-opacity="{opacity:.2f}"><title>{WEEKDAYS[weekday]} {hour:02d} h : {count} messages'
                "</title></rect>"
            )
    return _svg(width, height, "Messages par jour de la semaine et par heure", body)


def _table(headers: tuple[str, ...], rows: list[tuple[str, ...]], numeric: set[int]) -> str:
    if not rows:
        return _empty()
    head = "".join(
        f'<th class="n">{escape(header)}</th>' if index in numeric else f"<th>{escape(header)}</th>"
        for index, header in enumerate(headers)
    )
    body = "".join(
        "<tr>" + "".join(
            f'<td class="n">{escape(cell)}</td>' if index in numeric else f"<td>{escape(cell)}</td>"
            for index, cell in enumerate(row)
        ) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def to_html(report: Report) -> str:
    """The whole report as one HTML document a manager opens in a browser, even offline."""
    kpis = [
        (str(report.conversations), "conversations"),
        (percent(report.containment_rate), f"réglées sans personne ({report.contained})"),
        (percent(report.escalation_rate), f"transférées à une personne ({report.escalated})"),
        (percent(report.fallback_rate), f"messages non compris ({report.fallback_messages})"),
        (str(report.user_messages), "messages des citoyens"),
    ]
    kpi_html = "".join(f'<div class="kpi"><b>{escape(value)}</b><span>{escape(label)}</span></div>'
                       for value, label in kpis)
    sections = [
        ("Conversations par jour", volume_chart(report)),
        ("Rétention par jour (réglées sans personne)", containment_chart(report)),
        ("Intentions les plus fréquentes", intents_chart(report)),
        ("Achalandage par jour de la semaine et par heure", heatmap_chart(report)),
        ("Conversations par canal", _table(
            ("Canal", "Conversations"),
            [(CHANNEL_LABELS[name], str(count)) for name, count in report.channels.items()], {1})),
        ("Raisons des transferts", _table(
            ("Raison", "Conversations"),
            [(reason_label(reason), str(count)) for reason, count in report.escalation_reasons], {1})),
        ("Parcours guidés", _table(
            ("Parcours", "Commencés", "Terminés", "Taux"),
            [(flow_label(flow.name), str(flow.started), str(flow.completed),
              percent(flow.completed / flow.started if flow.started else None)) for flow in report.flows],
            {1, 2, 3})),
        ("Messages non compris les plus fréquents (données personnelles masquées)", _table(
            ("Nombre", "Message"), [(str(count), text) for text, count in report.not_understood], {0})),
        ("Transferts consignés", _table(
            ("Quand", "Canal", "Raison", "Sujet", "Déjà essayé"),
            [(handoff.time.strftime("%Y-%m-%d %H:%M"), CHANNEL_LABELS[handoff.channel],
              reason_label(handoff.reason), topic_label(handoff.topic),
              tried_label(handoff.tried))
             for handoff in report.handoffs], set())),
    ]
    sections += [(title, _table(headers, rows, set(range(1, len(headers)))))
                 for title, headers, rows in feedback_tables(report)]
    section_html = "".join(f"<section><h2>{escape(title)}</h2>{content}</section>" for title, content in sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="fr-CA"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Rapport de l'assistant des inscriptions en ligne</title>"
        f"<style>{STYLE}</style></head><body>"
        "<header><h1>Rapport de l'assistant des inscriptions en ligne</h1>"
        f"<p>{escape(period_label(report))}</p></header>"
        f'<main><div class="kpis">{kpi_html}</div>{section_html}</main></body></html>\n'
    )
