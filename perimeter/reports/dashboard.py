"""The HTML dashboard: one self-contained file (inline style and script, no fetch), readable offline.

What it shows: totals; compliance per rule (counts and a bar); compliance per account and region; the
non-compliant resources with their annotations, filterable by rule, account and severity; the active exemptions that
end within EXPIRING_DAYS of the date they were judged at (the scan's ``exemption`` object: ``expires``, ``reason``,
``state``), when the rows carry exemptions. Tables are written here, so the page reads without
script; the script only filters rows. The filters start from the address's fragment (``#rule=...&account=...&
severity=...``), so a filtered view can be bookmarked and shared.

Everything taken from the scanned accounts (names, ids, annotations) is HTML-escaped; the script reads only
``data-`` attributes and never writes markup.
"""
from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from html import escape
from typing import Any, Iterable, TextIO

from perimeter.reports.base import ReportContext
from perimeter.exemptions import ACTIVE
from perimeter.scan import Finding
from perimeter.verdicts import COMPLIANCE_TYPES, COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE

EXPIRING_DAYS = 30
SEVERITY_ORDER = ("Critical", "High", "Medium", "Low", "Informational")
UNKNOWN = "—"

STYLE = """
:root{--ok:#2e7d32;--bad:#c62828;--na:#9e9e9e;--ink:#1f2933;--mute:#616e7c;--line:#e4e7eb;--bg:#f5f7fa}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:var(--ink);background:var(--bg)}header{background:#102a43;color:#fff;padding:20px 32px}
header h1{margin:0;font-size:22px}header p{margin:4px 0 0;color:#bcccdc}main{padding:24px 32px;max-width:1400px}
section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:16px 20px;margin-bottom:20px}
h2{font-size:16px;margin:0 0 12px}.tiles{display:flex;gap:16px;flex-wrap:wrap}
.tiles{margin-bottom:20px}.tile{flex:1;min-width:150px;background:#fff;border:1px solid var(--line);border-radius:8px;padding:14px 18px}
.tile b{display:block;font-size:28px}.tile span{color:var(--mute)}.tile.bad b{color:var(--bad)}
.tile.ok b{color:var(--ok)}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--mute);font-weight:600;font-size:12px;text-transform:uppercase;letter-spacing:.03em}
td.n{text-align:right;font-variant-numeric:tabular-nums}.bar{display:flex;height:14px;border-radius:7px;
overflow:hidden;background:var(--line);min-width:160px}td code{white-space:nowrap}.bar span{display:block;height:100%}
.bar .c{background:var(--ok)}.bar .x{background:var(--bad)}.bar .a{background:var(--na)}
.sev{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;color:#fff}
.sev-Critical{background:#7b1fa2}.sev-High{background:#c62828}.sev-Medium{background:#ef6c00}
.sev-Low{background:#f9a825;color:#1f2933}.sev-Informational{background:#607d8b}
.filters{display:flex;gap:12px;flex-wrap:wrap;margin-bottom:12px}.filters label{color:var(--mute);font-size:12px}
.filters select{display:block;margin-top:2px;padding:4px;min-width:180px}code{font-size:12px}
.annotation{color:#334e68}.empty{color:var(--mute);font-style:italic}#shown{color:var(--mute)}
"""

SCRIPT = """
(function(){
  var keys=["rule","account","severity"], rows=[].slice.call(document.querySelectorAll("#offenders tbody tr"));
  function select(k){return document.getElementById("filter-"+k);}
  function apply(){
    var shown=0;
    rows.forEach(function(r){
      var ok=keys.every(function(k){var v=select(k).value;return !v||r.getAttribute("data-"+k)===v;});
      r.hidden=!ok; if(ok){shown++;}
    });
    document.getElementById("shown").textContent=shown+" of "+rows.length+" shown";
    var parts=keys.filter(function(k){return select(k).value;}).map(function(k){
      return k+"="+encodeURIComponent(select(k).value);});
    if(history.replaceState){history.replaceState(null,"",parts.length?"#"+parts.join("&"):location.pathname);}
  }
  location.hash.replace(/^#/,"").split("&").forEach(function(p){
    var kv=p.split("="), s=kv.length===2&&keys.indexOf(kv[0])>=0?select(kv[0]):null;
    if(s){var v=decodeURIComponent(kv[1]);
      if([].some.call(s.options,function(o){return o.value===v;})){s.value=v;}}
  });
  keys.forEach(function(k){select(k).addEventListener("change",apply);});
  apply();
})();
"""


def _text(value: Any) -> str:
    return escape(str(value)) if value not in (None, "") else UNKNOWN


def _bar(counts: Counter) -> str:
    total = sum(counts[kind] for kind in COMPLIANCE_TYPES)
    if not total:
        return '<div class="bar" title="no resources"></div>'
    parts = [(COMPLIANT, "c"), (NON_COMPLIANT, "x"), (NOT_APPLICABLE, "a")]
    spans = "".join(f'<span class="{css}" style="width:{100 * counts[kind] / total:.2f}%"></span>'
                    for kind, css in parts if counts[kind])
    title = ", ".join(f"{counts[kind]} {kind.lower().replace('_', '-')}" for kind, _ in parts)
    return f'<div class="bar" title="{title}">{spans}</div>'


def _counts_cells(counts: Counter) -> str:
    return "".join(f'<td class="n">{counts[kind]}</td>' for kind in COMPLIANCE_TYPES)


def _options(values: Iterable[str], everything: str) -> str:
    return f'<option value="">{everything}</option>' + "".join(
        f'<option value="{escape(value)}">{escape(value)}</option>' for value in values)


def _active_until(finding: Finding) -> date | None:
    """The last day of the row's exemption while it is active (``exemption.state`` active, ``expires`` YYYY-MM-DD);
    None for a row without one, or with an expired or invalid one: those exempt nothing."""
    exemption = getattr(finding, "exemption", None)
    if not isinstance(exemption, dict) or exemption.get("state") != ACTIVE:
        return None
    expires = exemption.get("expires")
    try:
        return date.fromisoformat(expires) if isinstance(expires, str) else None
    except ValueError:
        return None


def write_html(findings: Iterable[Finding], stream: TextIO, context: ReportContext) -> bool:
    """Aggregate the findings (counts, and the non-compliant rows kept whole), then write the page."""
    per_rule: dict[str, Counter] = {spec.rule_id: Counter() for spec in context.rules}
    per_place: dict[tuple, Counter] = {}
    offenders: list[Finding] = []
    expiring: list[tuple[date, Finding]] = []
    horizon = context.judged_on + timedelta(days=EXPIRING_DAYS)
    for finding in findings:
        per_rule.setdefault(finding.rule, Counter())[finding.complianceType] += 1
        per_place.setdefault((finding.accountId or "", finding.awsRegion or ""), Counter())[finding.complianceType] += 1
        if finding.complianceType == NON_COMPLIANT:
            offenders.append(finding)
        expiry = _active_until(finding)
        if expiry is not None and expiry <= horizon:
            expiring.append((expiry, finding))
    severity_rank = {severity: rank for rank, severity in enumerate(SEVERITY_ORDER)}
    offenders.sort(key=lambda f: (severity_rank.get(f.severity, 9), f.rule, f.accountId or "", f.awsRegion or "",
                                  f.resourceId))
    stream.write(_page(context, per_rule, per_place, offenders, sorted(expiring, key=lambda pair: pair[0])))
    return bool(offenders)


def _page(context, per_rule, per_place, offenders, expiring) -> str:
    specs = {spec.rule_id: spec for spec in context.rules}
    totals = Counter()
    for counts in per_rule.values():
        totals.update(counts)
    accounts = sorted({account for account, _ in per_place if account})
    generated = context.now.strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        # Nothing may load from elsewhere: the page is one file, read offline.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        "script-src 'unsafe-inline'; img-src data:\">",
        f"<title>Perimeter compliance — {escape(context.source)}</title><style>{STYLE}</style></head><body>",
        f"<header><h1>Perimeter compliance</h1><p>{escape(context.source)} · generated {generated}</p></header><main>",
        '<div class="tiles" id="totals">',
        f'<div class="tile bad"><b id="total-non-compliant">{totals[NON_COMPLIANT]}</b><span>non-compliant</span></div>',
        f'<div class="tile ok"><b id="total-compliant">{totals[COMPLIANT]}</b><span>compliant</span></div>',
        f'<div class="tile"><b id="total-not-applicable">{totals[NOT_APPLICABLE]}</b><span>not applicable</span></div>',
        f'<div class="tile"><b id="total-accounts">{len(accounts)}</b><span>accounts</span></div></div>',
        '<section><h2>Compliance per rule</h2><table id="rules"><thead><tr><th>Rule</th><th>Severity</th>'
        '<th>Compliant</th><th>Non-compliant</th><th>Not applicable</th><th>Share</th></tr></thead><tbody>',
    ]
    for rule_id, counts in per_rule.items():
        spec = specs.get(rule_id)
        title = spec.declaration["title"] if spec else ""
        severity = spec.declaration["severity"] if spec else ""
        parts.append(f'<tr data-rule="{escape(rule_id)}"><td><code>{escape(rule_id)}</code><br>'
                     f'<span class="annotation">{escape(title)}</span></td>'
                     f'<td><span class="sev sev-{escape(severity)}">{escape(severity)}</span></td>'
                     f"{_counts_cells(counts)}<td>{_bar(counts)}</td></tr>")
    parts.append('</tbody></table></section><section><h2>Compliance per account and region</h2><table id="places">'
                 "<thead><tr><th>Account</th><th>Region</th><th>Compliant</th><th>Non-compliant</th>"
                 "<th>Not applicable</th><th>Share</th></tr></thead><tbody>")
    for (account, region), counts in sorted(per_place.items()):
        parts.append(f'<tr data-account="{escape(account)}" data-region="{escape(region)}"><td>{_text(account)}</td>'
                     f"<td>{_text(region)}</td>{_counts_cells(counts)}<td>{_bar(counts)}</td></tr>")
    if not per_place:
        parts.append('<tr><td colspan="6" class="empty">No resources of the rules\' types were judged.</td></tr>')
    severities = [s for s in SEVERITY_ORDER if any(f.severity == s for f in offenders)]
    parts += [
        '</tbody></table></section><section><h2>Non-compliant resources</h2><div class="filters">',
        f'<label>Rule<select id="filter-rule">{_options(per_rule, "All rules")}</select></label>',
        f'<label>Account<select id="filter-account">{_options(accounts, "All accounts")}</select></label>',
        f'<label>Severity<select id="filter-severity">{_options(severities, "All severities")}</select></label>',
        f'<span id="shown">{len(offenders)} of {len(offenders)} shown</span></div>',
        '<table id="offenders"><thead><tr><th>Severity</th><th>Rule</th><th>Account</th><th>Region</th>'
        "<th>Resource</th><th>Annotation</th></tr></thead><tbody>",
    ]
    for finding in offenders:
        name = f"<br>{escape(finding.resourceName)}" if finding.resourceName else ""
        parts.append(
            f'<tr data-rule="{escape(finding.rule)}" data-account="{escape(finding.accountId or "")}" '
            f'data-severity="{escape(finding.severity)}"><td><span class="sev sev-{escape(finding.severity)}">'
            f"{escape(finding.severity)}</span></td><td><code>{escape(finding.rule)}</code></td>"
            f"<td>{_text(finding.accountId)}</td><td>{_text(finding.awsRegion)}</td>"
            f"<td>{escape(finding.resourceType)}<br><code>{escape(finding.resourceId)}</code>{name}</td>"
            f'<td class="annotation">{escape(finding.annotation)}</td></tr>')
    parts.append("</tbody></table>")
    if not offenders:
        parts.append('<p class="empty">No non-compliant resources.</p>')
    parts.append("</section>")
    if expiring:
        parts.append(f'<section><h2>Exemptions expiring within {EXPIRING_DAYS} days</h2><table id="expiring"><thead>'
                     "<tr><th>Expires</th><th>Rule</th><th>Account</th><th>Region</th><th>Resource</th><th>Reason</th>"
                     "</tr></thead><tbody>")
        for expiry, finding in expiring:
            name = f"<br>{escape(finding.resourceName)}" if finding.resourceName else ""
            parts.append(f"<tr><td>{expiry.isoformat()}</td><td><code>{escape(finding.rule)}</code></td>"
                         f"<td>{_text(finding.accountId)}</td><td>{_text(finding.awsRegion)}</td>"
                         f"<td>{escape(finding.resourceType)}<br><code>{escape(finding.resourceId)}</code>{name}</td>"
                         f'<td class="annotation">{_text(finding.exemption.get("reason"))}</td></tr>')
        parts.append("</tbody></table></section>")
    parts.append(f"</main><script>{SCRIPT}</script></body></html>\n")
    return "".join(parts)
