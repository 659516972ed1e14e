"""The dashboard's words, Chinese (default) and English, in one place; and number formats.

``t(key, **kw)`` looks the key up in the language held in ``st.session_state["lang"]``. Indicator
names come from the indicator catalogue, not from here.
"""

from __future__ import annotations

from pipelines import formats
from pipelines.sources import REASON_LABELS

LANGS = {"zh": "中文", "en": "English"}

TEXT: dict[str, dict[str, str]] = {
    # app, sign-in, sidebar
    "app_title": {"zh": "乡治 · 基层治理数据看板", "en": "Xiangzhi · grassroots governance dashboard"},
    "sign_in": {"zh": "登录", "en": "Sign in"},
    "sign_in_title": {"zh": "乡治 基层治理数据看板 — 请登录", "en": "Xiangzhi dashboard — please sign in"},
    "username": {"zh": "用户名", "en": "Username"},
    "password": {"zh": "密码", "en": "Password"},
    "bad_login": {"zh": "用户名或密码错误", "en": "Wrong username or password"},
    "no_users": {"zh": "尚未配置账号：{detail}", "en": "No accounts configured: {detail}"},
    "sign_out": {"zh": "退出登录", "en": "Sign out"},
    "continue_sign_in": {"zh": "如未自动跳转，请点此继续", "en": "Not redirected? Continue here"},
    "signed_in_as": {"zh": "当前账号：{name}", "en": "Signed in: {name}"},
    "role_county": {"zh": "县级", "en": "county"},
    "role_township": {"zh": "乡镇级", "en": "township"},
    "role_village": {"zh": "村级", "en": "village"},
    "language": {"zh": "语言 Language", "en": "Language 语言"},
    "period": {"zh": "月份", "en": "Month"},
    "township": {"zh": "乡镇", "en": "Township"},
    "village": {"zh": "村（社区）", "en": "Village"},
    "all": {"zh": "全部", "en": "All"},
    "no_data": {
        "zh": "暂无数据，请先运行 xiangzhi ingest 导入数据。",
        "en": "No data yet: run `xiangzhi ingest` first.",
    },
    "swapping": {
        "zh": "数据正在更新（发布新版本中），请稍候几秒后刷新页面。",
        "en": "The data is being updated (a new copy is being published); refresh in a few seconds.",
    },
    "forbidden": {
        "zh": "所选单位不在您的权限范围内，已恢复为您的默认范围。",
        "en": "The selected unit is outside your access; reset to your own scope.",
    },
    # page titles
    "page_overview": {"zh": "总览", "en": "Overview"},
    "page_map": {"zh": "地图", "en": "Map"},
    "page_trends": {"zh": "趋势", "en": "Trends"},
    "page_rankings": {"zh": "排名", "en": "Rankings"},
    "page_points": {"zh": "积分", "en": "Points"},
    "page_quality": {"zh": "数据质量", "en": "Data quality"},
    "page_pack": {"zh": "月度考评", "en": "Monthly pack"},
    # overview
    "overview_title": {"zh": "{unit} · {period} 总览", "en": "{unit} · {period} overview"},
    "target": {"zh": "目标", "en": "Target"},
    "no_target": {"zh": "无目标", "en": "no target"},
    "light_green": {"zh": "达标", "en": "on target"},
    "light_amber": {"zh": "接近目标", "en": "near target"},
    "light_red": {"zh": "未达标", "en": "below target"},
    "light_grey": {"zh": "样本不足/无数据", "en": "low n / no data"},
    "light_none": {"zh": "无目标，仅供参考", "en": "no target, for reference"},
    "vs_last_month": {"zh": "上月", "en": "Last month"},
    "pp": {"zh": "个百分点", "en": " pp"},
    "alerts": {"zh": "预警", "en": "Alerts"},
    "alert_black_names": {"zh": "黑榜村（含一票否决）{n} 个：{names}",
                          "en": "Villages on the black board (incl. veto), {n}: {names}"},
    "alert_inactive": {"zh": "本月无走访、无事件的网格：{n} 个", "en": "Grids with no visit and no event this month: {n}"},
    "alert_low_n": {"zh": "样本不足（分母小于5）的村级指标：{n} 项，已置灰且不计入总分",
                    "en": "Village indicators with low n (denominator < 5): {n}, greyed and left out of the score"},
    "no_alerts": {"zh": "本月无预警。", "en": "No alerts this month."},
    "no_events_month": {"zh": "本月该范围内没有上报事件，事件类指标为空（不是0%）。",
                        "en": "No events were reported here this month: event rates are empty (not 0 %)."},
    "month_counts": {"zh": "本月记录：走访巡查 {visits} 条 · 事件 {events} 件 · 纠纷 {disputes} 件 · 积分记录 {points} 条",
                     "en": "This month: {visits} visits · {events} events · {disputes} disputes · {points} points records"},
    "low_n_note": {"zh": "样本不足", "en": "low n"},
    # map
    "map_title": {"zh": "{unit} · {period} 网格地图", "en": "{unit} · {period} grid map"},
    "map_indicator": {"zh": "网格着色指标", "en": "Colour grids by"},
    "map_layers": {"zh": "图层", "en": "Layers"},
    "layer_events": {"zh": "事件点位", "en": "Event points"},
    "layer_density": {"zh": "事件密度（六边形）", "en": "Event density (hexagons)"},
    "layer_disputes": {"zh": "纠纷数（按村）", "en": "Disputes by village"},
    "layer_labels": {"zh": "村名标注", "en": "Village labels"},
    "map_note": {"zh": "示意图：边界由网格拼合，事件位置为网格内示意位置，非实际坐标；不含底图。",
                 "en": "Schematic: outlines are merged from grids; event positions are schematic spots within "
                       "their grid, not real coordinates; no basemap."},
    "legend": {"zh": "图例", "en": "Legend"},
    "density_note": {"zh": "事件密度六边形：浅蓝 → 深紫 表示本月事件由少到多；圆点为本月纠纷数（按村，红色含越级上访）。",
                     "en": "Event density hexagons: light blue → purple = fewer → more events this month; "
                           "circles = disputes this month by village (red: with a petition)."},
    "legend_nodata": {"zh": "无数据/样本不足", "en": "no data / low n"},
    "village_value_note": {"zh": "该指标无网格级数值，网格按所属村的数值着色。",
                           "en": "This indicator has no grid-level value: grids take their village's value."},
    "no_geometry": {"zh": "没有网格边界数据，无法绘制地图。", "en": "No grid geometry: the map cannot be drawn."},
    "tip_grid": {"zh": "网格", "en": "Grid"},
    "tip_village": {"zh": "所属村", "en": "Village"},
    "tip_head": {"zh": "网格长", "en": "Grid head"},
    "tip_households": {"zh": "户数", "en": "Households"},
    "tip_event": {"zh": "事件", "en": "Event"},
    "tip_category": {"zh": "类别", "en": "Category"},
    "tip_status": {"zh": "状态", "en": "Status"},
    "tip_disputes": {"zh": "本月纠纷", "en": "Disputes this month"},
    "tip_petitions": {"zh": "越级上访", "en": "Petitions"},
    "tip_top_type": {"zh": "主要类型", "en": "Main type"},
    # trends
    "trends_title": {"zh": "{unit} · 趋势", "en": "{unit} · trends"},
    "trend_indicator": {"zh": "指标", "en": "Indicator"},
    "value": {"zh": "数值", "en": "Value"},
    "mom": {"zh": "环比", "en": "Month on month"},
    "yoy": {"zh": "同比", "en": "Year on year"},
    "no_yoy": {"zh": "无去年同期数据", "en": "no value a year earlier"},
    "events_by_category": {"zh": "事件类别（按月）", "en": "Events by category and month"},
    "disputes_by_type": {"zh": "纠纷类型（按月）", "en": "Disputes by type and month"},
    "month": {"zh": "月份", "en": "Month"},
    "count": {"zh": "数量", "en": "Count"},
    "category": {"zh": "类别", "en": "Category"},
    "dispute_type": {"zh": "纠纷类型", "en": "Dispute type"},
    "no_rows": {"zh": "该范围内没有记录。", "en": "No records in this scope."},
    # rankings
    "rankings_title": {"zh": "{unit} · {period} 村（社区）排名", "en": "{unit} · {period} village ranking"},
    "rank": {"zh": "排名", "en": "Rank"},
    "name": {"zh": "村（社区）", "en": "Village"},
    "score": {"zh": "综合得分", "en": "Score"},
    "change": {"zh": "名次变化", "en": "Change"},
    "board": {"zh": "红黑榜", "en": "Board"},
    "veto": {"zh": "一票否决", "en": "Veto"},
    "board_red": {"zh": "红榜", "en": "Red"},
    "board_black": {"zh": "黑榜", "en": "Black"},
    "yes": {"zh": "是", "en": "yes"},
    "new_entry": {"zh": "新", "en": "new"},
    "ranks_note": {"zh": "名次为全县排名；灰色带 * 为样本不足，不计入总分；鼠标移到列名上可看指标全称与口径。",
                   "en": "Ranks are county-wide; grey with * = low n, left out of the score. Hover a column "
                         "header for the indicator's full name and definition."},
    # the same note where indicators are rows with their full names (村庄对比) or absent (月度通报)
    "ranks_note_rows": {"zh": "名次为全县排名；灰色带 * 为样本不足，不计入总分。",
                        "en": "Ranks are county-wide; grey with * = low n, left out of the score."},
    "ranks_note_scores": {"zh": "名次为全县排名：并列名次相同，下一名次顺延。",
                          "en": "Ranks are county-wide: ties share a rank and the next rank is skipped."},
    "drilldown": {"zh": "村（社区）评分明细", "en": "Village scorecard"},
    "pick_village": {"zh": "选择村（社区）", "en": "Village"},
    "scorecard_missing": {"zh": "评分明细模块尚未就绪。", "en": "The score breakdown is not available yet."},
    "history": {"zh": "得分与排名走势", "en": "Score and rank history"},
    "no_scores": {"zh": "本月没有村级评分。", "en": "No village scores this month."},
    "indicator": {"zh": "指标", "en": "Indicator"},
    "numerator": {"zh": "分子", "en": "Numerator"},
    "denominator": {"zh": "分母", "en": "Denominator"},
    "attainment": {"zh": "达成度", "en": "Attainment"},
    "weight": {"zh": "权重", "en": "Weight"},
    "contribution": {"zh": "得分贡献", "en": "Contribution"},
    # points
    "points_title": {"zh": "{unit} · {period} 积分治理", "en": "{unit} · {period} points"},
    "points_distribution": {"zh": "户月度积分分布（已确认）", "en": "Confirmed points per household this month"},
    "households": {"zh": "户数", "en": "Households"},
    "points": {"zh": "积分", "en": "Points"},
    "participation": {"zh": "各村积分参与率", "en": "Participation by village"},
    "stars": {"zh": "{year}年 星级文明户", "en": "{year} star households"},
    "stars5": {"zh": "五星", "en": "5 stars"},
    "stars4": {"zh": "四星", "en": "4 stars"},
    "stars3": {"zh": "三星", "en": "3 stars"},
    "redemptions": {"zh": "积分兑换（按月）", "en": "Redemptions by month"},
    "points_spent": {"zh": "消耗积分", "en": "Points spent"},
    "item": {"zh": "兑换物品", "en": "Item"},
    "by_category": {"zh": "积分类别", "en": "By category"},
    "gained": {"zh": "加分", "en": "Gained"},
    "deducted": {"zh": "扣分", "en": "Deducted"},
    "zero_share": {"zh": "本月无已确认积分的户占 {share}", "en": "{share} of households had no confirmed points"},
    # data quality
    "quality_title": {"zh": "{unit} · 数据质量", "en": "{unit} · data quality"},
    "batches": {"zh": "导入批次", "en": "Load batches"},
    "files": {"zh": "文件明细", "en": "Files"},
    "quarantine": {"zh": "隔离记录（按原因）", "en": "Quarantined rows by reason"},
    "validation": {"zh": "校验结果", "en": "Validation results"},
    "reporting": {"zh": "{period} 各网格上报完整性与及时性", "en": "{period} reporting completeness and timeliness by grid"},
    "county_only": {"zh": "导入批次、文件与隔离明细仅对县级账号开放。",
                    "en": "Batches, files and quarantine details are shown to county accounts only."},
    "active": {"zh": "活跃", "en": "Active"},
    "timely": {"zh": "录入及时率", "en": "Timely entry"},
    "visits": {"zh": "走访巡查", "en": "Visits"},
    "events": {"zh": "事件", "en": "Events"},
    "grid_name": {"zh": "网格", "en": "Grid"},
    "grids_active": {"zh": "网格活跃率（活跃 {n} / 共 {total}）", "en": "Active grids ({n} of {total})"},
    "redeemed_month": {"zh": "本月兑换次数", "en": "Redemptions this month"},
    "failed_checks": {"zh": "未通过的校验 {n} 项", "en": "{n} failed checks"},
    # --- grid workers (page 8) ---
    "page_workers": {"zh": "网格员考评", "en": "Grid workers"},
    "workers_title": {"zh": "{unit} · {period} 网格员考评", "en": "{unit} · {period} grid workers' assessment"},
    "workers_empty": {
        "zh": "{period} 本范围内没有网格员考评记录（当月无走访巡查、上报事件或超期事件）。",
        "en": "No grid worker has anything to assess in {period} here (no visits, patrols, events or overdue events).",
    },
    "workers_rule": {
        "zh": "考核评议表：基础分 {base:g} 分，加减分项封顶后合计，总分限定在 0–100 分；"
              "优秀 ≥ {g1:g}，良好 ≥ {g2:g}，合格 ≥ {g3:g}。排名为乡镇内排名，并列名次相同、下一名次顺延。",
        "en": "Scoring sheet: base {base:g}, item points held to their caps, total clipped to 0–100; "
              "Excellent ≥ {g1:g}, Good ≥ {g2:g}, Pass ≥ {g3:g}. Ranks are within the township; ties share a rank.",
    },
    "workers_league": {"zh": "{township} · 网格员月度排名", "en": "{township} · league of grid workers"},
    "worker": {"zh": "网格员", "en": "Worker"},
    "worker_total": {"zh": "总分", "en": "Total"},
    "worker_grade": {"zh": "等次", "en": "Grade"},
    "worker_rank": {"zh": "乡镇内排名", "en": "Rank in township"},
    "worker_rank_change": {"zh": "名次变化", "en": "Rank change"},
    "worker_total_change": {"zh": "较上月", "en": "vs last month"},
    "worker_new": {"zh": "新", "en": "new"},
    "worker_detail": {"zh": "网格员得分明细", "en": "A worker's items and points"},
    "pick_worker": {"zh": "选择网格员", "en": "Choose a worker"},
    "worker_item": {"zh": "考核项目", "en": "Item"},
    "worker_count": {"zh": "数量", "en": "Count"},
    "worker_per_unit": {"zh": "每项分值", "en": "Points each"},
    "worker_cap": {"zh": "封顶", "en": "Cap"},
    "worker_points": {"zh": "得分", "en": "Points"},
    "worker_sum": {
        "zh": "总分 {total:g} = 基础分 {base:g} + 各项得分 {items:+g}（限定 0–100）· {grade}",
        "en": "Total {total:g} = base {base:g} + item points {items:+g} (clipped to 0–100) · {grade}",
    },
    "worker_history": {"zh": "历月得分", "en": "History"},
    "workers_sheet": {"zh": "张榜公示表（按村打印）", "en": "Posting sheet (one per village, for printing)"},
    "workers_sheet_village": {"zh": "公示的村（社区）", "en": "Village to post"},
    "workers_sheet_pdf": {"zh": "下载公示表 PDF", "en": "Download sheet PDF"},
    "workers_sheet_xlsx": {"zh": "下载公示表 XLSX", "en": "Download sheet XLSX"},
    "workers_csv": {"zh": "下载本表 CSV", "en": "Download this table (CSV)"},
    # --- dashboard-glance (#14): missing values, incomplete months, pending points ---------------
    "missing_help": {"zh": "“—” 表示无数值：{reason}", "en": "“—” means no value: {reason}"},
    "why_no_value": {"zh": "本月无记录或分母为0", "en": "no records this month or a zero denominator"},
    "why_not_scored": {"zh": "样本不足或无数值，不计入总分", "en": "low n or no value, left out of the score"},
    "why_no_records": {"zh": "本月该网格无走访、无事件", "en": "the grid recorded no visit and no event this month"},
    "why_rejected": {"zh": "文件被拒收，无法确定数据类型", "en": "the file was rejected before its kind was known"},
    "why_none": {"zh": "本月没有此类记录", "en": "no such records this month"},
    "incomplete_month": {
        "zh": "{period} 数据不完整：仅 {share} 的网格已上报（通常 {usual}），可能仍在录入或尚未导入，数字会变化，请勿据此排名问责。",
        "en": "{period} is incomplete: only {share} of grids have reported (usually {usual}); records may still be "
              "coming in, so these figures will change: do not rank or judge on them yet.",
    },
    "period_incomplete_tag": {"zh": "（不完整）", "en": " (incomplete)"},
    "vs_same_point_last_quarter": {"zh": "上季度同期", "en": "Same point last quarter"},
    "quarantine_rows": {"zh": "隔离明细（逐行）", "en": "Quarantined rows"},
    "latest_batch_only": {"zh": "只看最近一次导入", "en": "Latest batch only"},
    "no_quarantine_rows": {"zh": "没有隔离记录。", "en": "No quarantined rows."},
    "quarantine_rows_note": {"zh": "共列出 {n} 行：文件、工作表、行号（与原文件一致）、原因（含字段与取值）。",
                             "en": "{n} rows listed: file, sheet, row number (as in the file), reason (field and value)."},
    "sheet": {"zh": "工作表", "en": "Sheet"},
    "row_number": {"zh": "行号", "en": "Row"},
    "pending_beside": {"zh": "待审核/公示中 {n} 条（本月共 {of} 条），审核后本项会变化",
                       "en": "{n} of {of} records this month await review: this will change"},
    # --- cases, drill-through, what-if, compare, export (pages 9, 10; issue #15) ---
    "page_cases": {"zh": "事件与案件", "en": "Cases"},
    "page_whatif": {"zh": "权重推演", "en": "What-if weights"},
    "page_compare": {"zh": "村庄对比", "en": "Compare villages"},
    "cases_title": {"zh": "{unit} · 事件与案件", "en": "{unit} · events and cases"},
    "see_records": {"zh": "查看记录", "en": "See records"},
    "drill_title": {"zh": "{unit} · {period} · {indicator} 的记录", "en": "{unit} · {period} · records behind {indicator}"},
    "drill_rate": {"zh": "共 {den} 条（分母），其中 {num} 条计入分子（标 ✓），数值 {value}",
                   "en": "{den} records (denominator), {num} of them in the numerator (✓), value {value}"},
    "drill_count": {"zh": "共 {n} 条记录，数值 {value}", "en": "{n} records, value {value}"},
    "drill_sum": {"zh": "{n} 户，分子合计 {num}，分母合计 {den}，数值 {value}",
                  "en": "{n} households, numerator {num}, denominator {den}, value {value}"},
    "drill_population": {"zh": "分母为人口 {den}", "en": "denominator: population {den}"},
    "drill_clear": {"zh": "关闭记录明细", "en": "Close the record list"},
    "drill_bad": {"zh": "链接中的指标或月份无效。", "en": "The link names an unknown indicator or month."},
    "in_numerator": {"zh": "计入分子", "en": "In numerator"},
    "tab_events": {"zh": "事件", "en": "Events"},
    "tab_overdue": {"zh": "超期未办结", "en": "Overdue open events"},
    "tab_disputes": {"zh": "矛盾纠纷案件", "en": "Dispute cases"},
    "cases_more_in_download": {"zh": "页面只列主要字段；下载的 XLSX / CSV 含全部字段（所属村、来源、上报人、受理时间、用时等）。",
                               "en": "The page lists the main fields; the XLSX / CSV download has every field "
                                     "(village, source, reporter, accepted, hours taken and more)."},
    "drill_more_in_download": {"zh": "页面只列主要字段；下载的 XLSX / CSV 含这些记录的全部字段。",
                               "en": "The page lists the main fields; the XLSX / CSV download has every field of these records."},
    "disputes_more_in_download": {"zh": "页面只列主要字段；下载的 XLSX / CSV 含全部字段（当事人数、涉及金额、调解员、调处天数、越级上访、关联事件）。",
                                  "en": "The page lists the main fields; the XLSX / CSV download has every field "
                                        "(parties, amount, mediator, days to conclude, petition, related event)."},
    "this_month_only": {"zh": "仅本月（{period}）", "en": "This month only ({period})"},
    "status": {"zh": "状态", "en": "Status"},
    "overdue_only": {"zh": "只看超期（未办结超期或逾期办结）", "en": "Overdue only (open past deadline or closed late)"},
    "result": {"zh": "调解状态", "en": "State"},
    "cases_first_rows": {"zh": "页面列出前 {shown} 条（共 {n} 条）；下载的 XLSX / CSV 含全部 {n} 条。",
                         "en": "The page lists the first {shown} of {n}; the XLSX / CSV download has all {n}."},
    "events_shown": {"zh": "事件 {n} 件：已办结 {closed}，逾期办结 {late}，超期未办结 {overdue}",
                     "en": "{n} events: {closed} closed, {late} closed late, {overdue} open past deadline"},
    "overdue_as_of": {"zh": "截至 {as_of}（最新导出时间）仍未办结且已过办结时限的事件共 {n} 件",
                      "en": "{n} events still open past their deadline as of {as_of} (latest export)"},
    "no_overdue": {"zh": "没有超期未办结的事件。", "en": "No open event is past its deadline."},
    "by_age_band": {"zh": "按超期天数", "en": "By days past deadline"},
    "by_grid": {"zh": "按村（社区）和网格", "en": "By village and grid"},
    "days_band": {"zh": "超期 {band} 天", "en": "{band} days over"},
    "disputes_shown": {"zh": "案件 {n} 件：{states}", "en": "{n} cases: {states}"},
    "whatif_title": {"zh": "{unit} · {period} 权重推演", "en": "{unit} · {period} what-if weights"},
    "whatif_county_only": {"zh": "权重推演仅对县级账号开放。", "en": "What-if weights are for county accounts only."},
    "whatif_note": {"zh": "拖动滑块调整各指标权重与红黑榜比例，得分、排名与红黑榜即时重算；不会保存，正式结果不变。",
                    "en": "Move the weights and the board share: scores, ranks and boards are recomputed at once. "
                          "Nothing is saved; the official results do not change."},
    "board_share": {"zh": "红黑榜比例", "en": "Board share"},
    "reset_weights": {"zh": "恢复正式权重", "en": "Reset to official weights"},
    "weights_zero": {"zh": "所有权重均为 0，无法计算得分。", "en": "All weights are 0: no score can be computed."},
    "official": {"zh": "正式", "en": "Official"},
    "whatif": {"zh": "推演", "en": "What-if"},
    "changed_n": {"zh": "名次变化 {ranks} 个村，红黑榜变化 {boards} 个村", "en": "{ranks} ranks and {boards} boards change"},
    "compare_title": {"zh": "{period} 村庄对比", "en": "{period} compare villages"},
    "compare_need_two": {"zh": "当前账号范围内不足两个村（社区），无法对比。",
                         "en": "Fewer than two villages in this account's scope: nothing to compare."},
    "village_a": {"zh": "村（社区）A", "en": "Village A"},
    "village_b": {"zh": "村（社区）B", "en": "Village B"},
    "download_xlsx": {"zh": "下载 XLSX", "en": "Download XLSX"},
    "download_csv": {"zh": "下载 CSV", "en": "Download CSV"},
    # clerk accounts, lockout, page 11 数据导入 upload (pipelines/uploads.py, pipelines/users.py)
    "role_clerk": {"zh": "信息员", "en": "data clerk"},
    "locked": {"zh": "密码错误次数过多，该账号已锁定至 {until}，请稍后再试。",
               "en": "Too many wrong passwords: this account is locked until {until}. Try again later."},
    "page_upload": {"zh": "数据导入", "en": "Upload"},
    "upload_title": {"zh": "{unit} · 数据导入", "en": "{unit} · upload"},
    "upload_help": {"zh": "上传本月导出的文件（CSV、XLSX、XLS、JSON Lines、GeoJSON），每个文件不超过 {mb} MB。"
                          "只能导入本辖区（{scope}）的数据：含其他乡镇数据行的文件整个不导入。",
                    "en": "Upload this month's exports (CSV, XLSX, XLS, JSON Lines, GeoJSON), at most {mb} MB "
                          "each. Only rows of your area ({scope}): a file holding another township's rows is "
                          "refused whole."},
    "upload_files": {"zh": "选择文件", "en": "Choose files"},
    "upload_start": {"zh": "开始导入", "en": "Start the ingest"},
    "upload_busy": {"zh": "已有数据正在导入，请等它完成后再上传。", "en": "Another ingest is running: wait until it finishes."},
    "upload_running": {"zh": "正在导入：{phase}", "en": "Ingesting: {phase}"},
    "upload_keep": {"zh": "导入完成前，所有页面仍显示上一次发布的数据。",
                    "en": "Until the ingest finishes, every page keeps showing the previously published data."},
    "upload_done": {"zh": "导入完成（批次 {batch}，用时 {s} 秒）。", "en": "Ingest finished (batch {batch}, {s} s)."},
    "upload_nothing_new": {"zh": "没有新数据：所有文件都已导入过或被拒收。",
                           "en": "Nothing new: every file was loaded before or refused."},
    "upload_failed": {"zh": "导入失败，数据未改变：{msg}", "en": "The ingest failed and nothing changed: {msg}"},
    "upload_summary": {"zh": "各文件结果", "en": "Per file"},
    "upload_line_loaded": {"zh": "【已载入】{file}（{kind}）：读取 {read} 行，载入 {loaded} 行，隔离 {q} 行{reasons}，"
                                 "重复 {dup} 行，非数据 {nd} 行",
                           "en": "[loaded] {file} ({kind}): {read} rows read, {loaded} loaded, {q} quarantined{reasons}, "
                                 "{dup} duplicates, {nd} non-data"},
    "upload_line_rejected": {"zh": "【拒收】{file}：{reason}", "en": "[rejected] {file}: {reason}"},
    "upload_line_unchanged": {"zh": "【未变】{file}：内容相同的文件已导入过", "en": "[unchanged] {file}: already loaded"},
    "upload_line_refused": {"zh": "【未导入】{file}：{reason}", "en": "[refused] {file}: {reason}"},
    "upload_quarantine": {"zh": "下载本次隔离行（XLSX，{n} 行，每行标明原因和出错字段）",
                          "en": "Download this upload's quarantined rows (XLSX, {n} rows, reason and faulty field "
                                "on each)"},
    "upload_no_quarantine": {"zh": "本次导入没有隔离行。", "en": "No rows were quarantined in this upload."},
    "upload_clerk_only": {"zh": "数据导入页面仅对信息员账号开放。", "en": "The upload page is for data clerk accounts."},
    # 月度考评 page (views/monthly_pack.py)
    "pack_title": {"zh": "{unit} · {period} 月度考评", "en": "{unit} · {period} monthly assessment pack"},
    "pack_intro": {"zh": "下载的 PDF 与 XLSX 包含：封面概况、村（社区）排名与红黑榜、名次进退、分项指标对标、趋势图和数据质量。",
                   "en": "The PDF and XLSX hold: headline figures, the village league table with boards, risers and fallers, indicator tables against target, charts and data quality."},
    "pack_pdf": {"zh": "下载 PDF（打印版）", "en": "Download PDF (print)"},
    "pack_xlsx": {"zh": "下载 XLSX（数据表）", "en": "Download XLSX (tables)"},
    "pack_snapshot": {"zh": "数据快照", "en": "Data snapshot"},
    "pack_ranked": {"zh": "参评村（社区）", "en": "Villages ranked"},
    "pack_improved": {"zh": "进步最大", "en": "Improved most"},
    "pack_slipped": {"zh": "下滑最大", "en": "Slipped most"},
    "pack_first_month": {"zh": "本月为数据首月，无上月对比。", "en": "First month of data: no comparison with last month."},
    "pack_none": {"zh": "无", "en": "none"},
    "pack_headline": {"zh": "主要指标对标", "en": "Headline indicators vs target"},
    "pack_this_month": {"zh": "本月", "en": "This month"},
    "pack_last_month": {"zh": "上月", "en": "Last month"},
    "pack_status": {"zh": "状态", "en": "Status"},
    "pack_league": {"zh": "村（社区）排名与红黑榜", "en": "League table and boards"},
    "pack_prev_score": {"zh": "上月得分", "en": "Last month's score"},
    "pack_risers": {"zh": "进步最快", "en": "Biggest risers"},
    "pack_fallers": {"zh": "退步最快", "en": "Biggest fallers"},
    "pack_rank_move": {"zh": "名次（上月→本月）", "en": "Rank (last → this month)"},
    "pack_score_change": {"zh": "得分变化", "en": "Score change"},
    "pack_driver": {"zh": "主要拉动/拖累指标", "en": "Main driver"},
    "pack_more": {"zh": "分项指标、趋势图与数据质量见下载文件。",
                  "en": "Indicator tables, charts and data quality are in the files."},
    "pack_building": {"zh": "正在生成考评材料……", "en": "Building the pack…"},
    # --- province view over a Parquet lake (SPEC §4.1, issue #17): dashboard/views/province.py ---
    "role_province": {"zh": "省级", "en": "province"},
    "page_province": {"zh": "省级总览", "en": "Province overview"},
    "province_title": {"zh": "{unit} · {period} 省级总览", "en": "{unit} · {period} province overview"},
    "province_unit": {"zh": "省（区划代码 {code}）", "en": "Province (division code {code})"},
    "province_note": {"zh": "数据来自数据湖 {lake}（各县导出的已发布数据及其指标、得分），只读。",
                      "en": "From the lake {lake} (each county's exported published data, indicators and scores); "
                            "read-only."},
    "province_needs_lake": {"zh": "省级账号只能查看数据湖：请用 xiangzhi dashboard --lake 数据湖文件夹 启动看板。",
                            "en": "Province accounts read a lake: start the dashboard with "
                                  "`xiangzhi dashboard --lake DIR`."},
    "lake_missing": {"zh": "找不到数据湖 {lake}（没有 manifest.json）：请先运行 xiangzhi lake export。",
                     "en": "No lake at {lake} (no manifest.json): run `xiangzhi lake export` first."},
    "lake_not_for_role": {"zh": "数据湖看板只对省级和县级账号开放。",
                          "en": "The lake dashboard is for province and county accounts."},
    "lake_no_periods": {"zh": "数据湖中没有本账号范围内的指标数据：请先运行 xiangzhi lake marts。",
                        "en": "The lake holds no indicators in this account's scope: run `xiangzhi lake marts`."},
    "counties_n": {"zh": "县（市、区）数", "en": "Counties"},
    "villages_scored_n": {"zh": "参评村（社区）", "en": "Villages scored"},
    "county_league": {"zh": "县级排名（按参评村平均得分）", "en": "County league (mean village score)"},
    "county_league_note": {"zh": "排名为全省排名（并列同名次）；县级账号只显示本县。",
                           "en": "Ranks are province-wide (ties share a rank); a county account sees its own row."},
    "county": {"zh": "县（市、区）", "en": "County"},
    "county_code": {"zh": "县代码", "en": "County code"},
    "mean_score": {"zh": "平均得分", "en": "Mean score"},
    "red_n": {"zh": "红榜村数", "en": "Red board"},
    "black_n": {"zh": "黑榜村数", "en": "Black board"},
    "veto_n": {"zh": "一票否决村数", "en": "Vetoed"},
    "county_indicators": {"zh": "各县指标", "en": "Indicators across counties"},
    "county_drill": {"zh": "县内村（社区）排名", "en": "Villages of a county"},
    "pick_county": {"zh": "选择县", "en": "Pick a county"},
    "no_county_scores": {"zh": "本月没有参评的村（社区）。", "en": "No village is scored this month."},
    # --- dashboard-tables (#14 defects 8, 9; #15 item 5) ---
    "score_sum": {"zh": "综合得分 {score} = 各项得分贡献之和", "en": "Score {score} = sum of contributions"},
    "league_ind_help": {"zh": "{name}：{definition}", "en": "{name}: {definition}"},
    "league_change": {"zh": "升降", "en": "Move"},
}

# Short headers for the league table's indicator columns: with the catalogue's full names (five to
# seven characters, three to five English words) the last columns fell off a 1440 px screen
# (#14 defect 8). The full name and definition stay in the column's hover help.
IND_SHORT: dict[str, tuple[str, str]] = {
    "grid_active_rate": ("网格活跃", "Active grids"),
    "key_visit_rate": ("重点走访", "Key visits"),
    "ordinary_visit_rate_qtd": ("普通走访", "Visits QTD"),
    "event_closure_rate": ("办结率", "Closed"),
    "on_time_rate": ("按期率", "On time"),
    "satisfaction_rate": ("满意率", "Satisfied"),
    "mediation_success_rate": ("调解成功", "Mediated"),
    "petitions": ("越级上访", "Petitions"),
    "points_participation_rate": ("积分参与", "Points"),
    "entry_timeliness_rate": ("录入及时", "Timely entry"),
}

LIGHT_COLOURS = {"green": "green", "amber": "orange", "red": "red", "grey": "gray", "none": "blue"}
LIGHT_HEX = {"green": "#2e7d32", "amber": "#ef8f00", "red": "#c62828", "grey": "#9e9e9e", "none": "#5c6bc0"}

# at a glance (dashboard-glance, #14): 总览 standing, boards, movers; 排名 why low
TEXT.update({
    "glance": {"zh": "一览", "en": "At a glance"},
    "glance_sep": {"zh": "、", "en": ", "},
    "glance_colon": {"zh": "：", "en": ": "},
    "glance_veto_tag": {"zh": "（一票否决）", "en": " (veto)"},
    "glance_rank": {"zh": "第 {rank} 名 / 共 {n} 个村", "en": "rank {rank} of {n} villages"},
    "glance_unranked": {"zh": "本月未排名（没有可计分的指标）", "en": "not ranked this month (no scored indicator)"},
    "glance_prev_rank": {"zh": "上月第 {rank} 名", "en": "last month rank {rank}"},
    "glance_red": {"zh": "红榜（{n} 个）", "en": "Red board ({n})"},
    "glance_black": {"zh": "黑榜（{n} 个）", "en": "Black board ({n})"},
    "glance_none": {"zh": "无", "en": "none"},
    "glance_top": {"zh": "得分最高", "en": "Highest scores"},
    "glance_bottom": {"zh": "得分最低", "en": "Lowest scores"},
    "glance_risers": {"zh": "进步最大", "en": "Biggest risers"},
    "glance_fallers": {"zh": "退步最大", "en": "Biggest fallers"},
    "glance_no_movers": {"zh": "无明显变化", "en": "no real movement"},
    "glance_move": {"zh": "{name}（第 {prev} → {rank} 名，{delta} 分）", "en": "{name} (rank {prev} → {rank}, {delta} points)"},
    "glance_lag_note": {
        "zh": "升降已剔除滞后因素：待审核积分（审核后会变化）和季度累计指标（每季重新累计）的得分变化不计入。"
              "主要由这些因素造成变化、未列入升降的村：{names}。",
        "en": "Movements exclude lag: score changes from points awaiting review (they change once reviewed) and "
              "from quarter-to-date rates (they restart every quarter). Villages whose move is mostly lag, not "
              "listed: {names}."},
    "glance_lag_note_none": {
        "zh": "升降已剔除滞后因素：待审核积分（审核后会变化）和季度累计指标（每季重新累计）的得分变化不计入。",
        "en": "Movements exclude lag: score changes from points awaiting review (they change once reviewed) and "
              "from quarter-to-date rates (they restart every quarter)."},
    "glance_townships": {"zh": "乡镇对比", "en": "Townships compared"},
    "glance_town_rank": {"zh": "名次", "en": "Rank"},
    "glance_villages_scored": {"zh": "计分村数", "en": "Villages scored"},
    "glance_mean_score": {"zh": "平均得分", "en": "Mean score"},
    "glance_mean_change": {"zh": "较上月", "en": "vs last month"},
    "glance_red_n": {"zh": "红榜村数", "en": "On red board"},
    "glance_black_n": {"zh": "黑榜村数", "en": "On black board"},
    "why_low": {"zh": "失分最多的指标", "en": "Where it loses most points"},
    "why_low_line": {"zh": "{name}：{value}（目标 {target}），失 {lost} 分", "en": "{name}: {value} (target {target}), "
                     "{lost} points lost"},
    "why_low_intro": {"zh": "{village} 得分 {score}，比满分少 {lost} 分，主要失分在：",
                      "en": "{village} scores {score}, {lost} points short of full marks, mostly from:"},
    "why_low_full": {"zh": "{village} 各项计分指标均达标，没有失分。", "en": "{village} meets every scored target: no points lost."},
})


def lang() -> str:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    if get_script_run_ctx(suppress_warning=True) is None:  # outside a Streamlit run (scripts, the pack)
        return "zh"
    import streamlit as st

    return st.session_state.get("lang", "zh")


def t(key: str, lang_: str | None = None, **kw) -> str:
    entry = TEXT[key]
    text = entry.get(lang_ or lang()) or entry["zh"]
    return text.format(**kw) if kw else text


def colon(label: str, value, lang_: str | None = None) -> str:
    """`label：value` in Chinese, `label: value` in English (full-width punctuation only in Chinese)."""
    return f"{label}{t('glance_colon', lang_)}{value}"


def paren(text, lang_: str | None = None) -> str:
    """`（text）` in Chinese, ` (text)` in English."""
    return f"（{text}）" if (lang_ or lang()) == "zh" else f" ({text})"


def join_names(names, lang_: str | None = None) -> str:
    """Names joined with 、 in Chinese, `, ` in English."""
    return t("glance_sep", lang_).join(str(n) for n in names)


def ind_name(ind, lang_: str | None = None) -> str:
    """An indicator's name from the catalogue in the current language."""
    return ind.name_en if (lang_ or lang()) == "en" else ind.name_zh


# Formatting lives in pipelines/formats.py (one set for pages, pack and notebooks); these take the
# page's language.


def fmt_count(v, lang_: str | None = None) -> str:
    """Counts: 12,345 (both languages)."""
    return formats.fmt_count(v)


def is_share(unit: str | None) -> bool:
    return formats.is_share(unit)


def fmt_value(v, unit: str | None, lang_: str | None = None) -> str:
    """A catalogue indicator's value in its unit, in the page's language."""
    return formats.fmt_value(v, unit, lang_ or lang())


def fmt_delta(d, unit: str | None, lang_: str | None = None) -> str | None:
    """Change since last month (None when there is nothing to compare: st.metric shows no delta)."""
    return formats.fmt_delta(d, unit, lang_ or lang())


def fmt_pct(v) -> str:
    return formats.fmt_pct(v)


COLUMNS: dict[str, tuple[str, str]] = {
    "batch_id": ("批次", "Batch"),
    "started_at": ("开始时间", "Started"),
    "finished_at": ("结束时间", "Finished"),
    "status": ("状态", "Status"),
    "files": ("文件数", "Files"),
    "file_name": ("文件名", "File"),
    "source_kind": ("数据类型", "Source"),
    "rows_read": ("读取行数", "Rows read"),
    "rows_loaded": ("入库", "Loaded"),
    "rows_quarantined": ("隔离", "Quarantined"),
    "rows_duplicate": ("重复", "Duplicates"),
    "rows_non_data": ("非数据行", "Non-data rows"),
    "reason": ("原因", "Reason"),
    "reason_code": ("原因代码", "Reason code"),
    "rows": ("行数", "Rows"),
    "example": ("示例", "Example"),
    "suite": ("校验套件", "Suite"),
    "expectation": ("校验规则", "Expectation"),
    "success": ("通过", "Passed"),
    "unexpected_count": ("不符合行数", "Unexpected rows"),
    # import profiles (issue #11): the profile each file was read with
    "profile": ("导入方案", "Import profile"),
    # --- cases, drill-through, what-if (pages 9, 10; issue #15) ---
    "record_id": ("编号", "ID"),
    "event_id": ("事件编号", "Event ID"),
    "case_id": ("案件编号", "Case ID"),
    "household_key": ("户编号（脱敏）", "Household (pseudonymised)"),
    "grid_code": ("网格编码", "Grid code"),
    "grid_name": ("网格名称", "Grid"),
    "village_code": ("村代码", "Village code"),
    "village_name": ("村（社区）", "Village"),
    "township_code": ("乡镇代码", "Township code"),
    "township_name": ("乡镇", "Township"),
    "category": ("事件类别", "Category"),
    "source": ("来源", "Source"),
    "handling_level": ("处置层级", "Handled at"),
    "reporter": ("上报人", "Reported by"),
    "reported_at": ("上报时间", "Reported"),
    "accepted_at": ("受理时间", "Accepted"),
    "deadline": ("办结时限", "Deadline"),
    "closed_at": ("办结时间", "Closed"),
    "satisfaction": ("满意度", "Satisfaction"),
    "hours_to_accept": ("受理用时(小时)", "Hours to accept"),
    "hours_to_close": ("办结用时(小时)", "Hours to close"),
    "handle_hours": ("办结用时(小时)", "Hours to close"),
    "is_closed": ("已办结", "Closed"),
    "closed_late": ("逾期办结", "Closed late"),
    "overdue_open": ("超期未办结", "Open past deadline"),
    "days_overdue": ("超期天数", "Days past deadline"),
    "age_band": ("超期天数段", "Days-over band"),
    "overdue": ("超期件数", "Overdue"),
    "registered_on": ("登记日期", "Registered"),
    "dispute_type": ("纠纷类型", "Dispute type"),
    "parties_masked": ("当事人（脱敏）", "Parties (masked)"),
    "party_count": ("当事人数", "Parties"),
    "amount": ("涉及金额(元)", "Amount (CNY)"),
    "mediation_org": ("调解组织", "Mediation body"),
    "mediator": ("调解员", "Mediator"),
    "result": ("调解状态", "State"),
    "concluded_on": ("办结日期", "Concluded"),
    "days_to_conclude": ("调处天数", "Days to conclude"),
    "is_petition": ("越级上访", "Petition"),
    "related_event_id": ("关联事件编号", "Related event"),
    "head_name_masked": ("户主（脱敏）", "Head (masked)"),
    "key_type": ("重点户类型", "Key type"),
    "is_key": ("重点户", "Key household"),
    "last_visit": ("最近走访", "Last home visit"),
    "grid_head": ("网格长", "Grid head"),
    "visits": ("走访巡查数", "Visits"),
    "events": ("事件数", "Events"),
    "points_records": ("积分记录数", "Points records"),
    "confirmed_points": ("已确认积分", "Confirmed points"),
    "positive_points": ("已确认加分", "Positive points"),
    "redeemed_points": ("兑换积分", "Points redeemed"),
    "record_kind": ("记录类型", "Record kind"),
    "record_type": ("类型/类别", "Type"),
    "occurred_at": ("发生时间", "Happened"),
    "entered_at": ("录入时间", "Entered"),
    "lag_days": ("录入间隔(天)", "Entry lag (days)"),
    "in_numerator": ("计入分子", "In numerator"),
    "wi_score": ("推演得分", "What-if score"),
    "wi_rank": ("推演排名", "What-if rank"),
    "wi_board": ("推演红黑榜", "What-if board"),
    "score_delta": ("得分变化", "Score change"),
    "rank_changed": ("名次变化", "Rank changed"),
    "board_changed": ("红黑榜变化", "Board changed"),
}


REASONS = REASON_LABELS  # reason code → (zh, en): pipelines/sources.py owns them
STATUSES: dict[str, tuple[str, str]] = {
    "loaded": ("已入库", "loaded"), "rejected": ("已拒收", "rejected"), "published": ("已发布", "published"),
    "failed": ("失败", "failed"), "running": ("运行中", "running"), "skipped": ("已跳过", "skipped"),
}


def label_codes(df):
    """Chinese (or English) labels for source kinds, reason codes and statuses in a display frame."""
    from pipelines.sources import SOURCES

    i = 1 if lang() == "en" else 0
    df = df.copy()
    if "source_kind" in df:
        df["source_kind"] = df["source_kind"].map(
            lambda k: (SOURCES[k].label_en if i else SOURCES[k].label_zh) if k in SOURCES else k)
    if "reason_code" in df:
        df["reason_code"] = df["reason_code"].map(lambda c: f"{REASONS[c][i]} ({c})" if c in REASONS else c)
    if "status" in df:
        df["status"] = df["status"].map(lambda c: STATUSES[c][i] if c in STATUSES else c)
    return df


def relabel(df):
    """Column names for display in the current language (unknown names are kept)."""
    i = 1 if lang() == "en" else 0
    return df.rename(columns={k: v[i] for k, v in COLUMNS.items()})


# --- dashboard-glance (#14 defect 6): one formatter for missing values --------------------------


missing = formats.missing


def fmt_cell(v) -> str:
    """A table cell as text: "—" when missing, whole numbers without ".0", others to two places."""
    if missing(v):
        return "—"
    if isinstance(v, bool):
        return t("yes") if v else "✗"
    if isinstance(v, int) or (isinstance(v, float) and float(v).is_integer()):
        return f"{int(v):,}"
    if isinstance(v, float):
        return f"{v:,.2f}"
    return str(v)


def dash_missing(df, reasons: dict[str, str] | None = None):
    """A display frame with every missing value shown as "—" (never "None"/"nan"), and a
    column_config whose column help says why a column can be empty. Columns without missing values
    keep their type (and their sorting and number formats)."""
    import streamlit as st

    df = df.copy()
    config = {}
    for col in df.columns:
        if df[col].map(missing).any():
            df[col] = df[col].map(fmt_cell)
            reason = (reasons or {}).get(col, t("why_no_value"))
            config[col] = st.column_config.TextColumn(help=t("missing_help", reason=reason))
    return df, config


def ind_short(ind, lang_: str | None = None) -> str:
    """An indicator's short column header for a wide table (falls back to its name)."""
    en = (lang_ or lang()) == "en"
    return IND_SHORT[ind.id][en] if ind.id in IND_SHORT else ind_name(ind, lang_)
