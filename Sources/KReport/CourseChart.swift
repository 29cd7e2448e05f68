import KClinic

/// The course chart of web.md ("The course chart") as one SVG: a pure function of a patient's
/// `CourseHistory`, the rule parameters it draws lines for, and the due dates.
public enum CourseChart {
    /// What the chart draws beside the history.
    public struct Input: Sendable {
        public var history: CourseHistory
        /// R2: the response threshold is baseline × (1 − responseReduction).
        public var responseReduction: Double
        /// R5: remission is a MADRS ≤ remissionMax.
        public var remissionMax: Int
        /// `query phase`'s next infusion due (nil: nothing due, no marker).
        public var nextInfusionDue: Day?
        /// The nearest monitoring item date (its name and date), nil when none.
        public var monitoringDue: (item: String, day: Day)?

        public init(
            history: CourseHistory, responseReduction: Double, remissionMax: Int, nextInfusionDue: Day?,
            monitoringDue: (item: String, day: Day)?
        ) {
            self.history = history
            self.responseReduction = responseReduction
            self.remissionMax = remissionMax
            self.nextInfusionDue = nextInfusionDue
            self.monitoringDue = monitoringDue
        }
    }

    /// A tick of the time axis: its date and label.
    public struct Tick: Sendable, Equatable {
        public var day: Day
        public var label: String
    }

    // Geometry (viewBox units; the SVG scales to its container's width).
    static let width = 860.0
    static let left = 46.0
    static let right = 172.0
    static let top = 26.0
    static let mainHeight = 250.0
    static let laneHeight = 26.0
    static let phqHeight = 64.0
    static let phqGap = 12.0
    static let axisHeight = 28.0
    static let labelFont = 12.5
    /// An estimate of a label's width in viewBox units (digits and letters of the chart font).
    static func labelWidth(_ s: String) -> Double { Double(s.count) * labelFont * 0.62 }

    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Ticks for `from`…`to` drawn `pixels` wide: weeks, months, quarters or years, whichever is
    /// the finest whose labels do not overlap (thinned further when they still would).
    public static func ticks(from: Day, to: Day, pixels: Double) -> [Tick] {
        let span = max(1, from.days(to: to))
        let perDay = pixels / Double(span)
        func fits(_ ticks: [Tick]) -> Bool {
            guard ticks.count > 1 else { return true }
            for i in 1..<ticks.count {
                let gap = Double(ticks[i - 1].day.days(to: ticks[i].day)) * perDay
                if gap < (labelWidth(ticks[i - 1].label) + labelWidth(ticks[i].label)) / 2 + 10 { return false }
            }
            return true
        }
        var candidates: [[Tick]] = []
        // Weeks: Mondays.
        if span <= 200 {
            var d = from
            while (Int(d.ordinal) % 7 + 7) % 7 != 4 { d = d.adding(days: 1) }  // ordinal 0 = 1970-01-01, a Thursday
            var weeks: [Tick] = []
            var lastYear: Int?
            while d <= to {
                let c = d.civil
                weeks.append(
                    Tick(
                        day: d, label: lastYear == c.year ? "\(c.day) \(months[c.month - 1])" : "\(c.day) \(months[c.month - 1]) \(c.year)")
                )
                lastYear = c.year
                d = d.adding(days: 7)
            }
            candidates.append(weeks)
        }
        for stepMonths in [1, 3, 12] {
            let c = from.civil
            var y = c.year
            var m = c.month
            // The first month start on or after `from` that is a multiple of the step.
            if let first = Day(year: y, month: m, day: 1), first < from {
                m += 1
                if m > 12 {
                    m = 1
                    y += 1
                }
            }
            while (m - 1) % stepMonths != 0 {
                m += 1
                if m > 12 {
                    m = 1
                    y += 1
                }
            }
            var list: [Tick] = []
            var lastYear: Int?
            while let d = Day(year: y, month: m, day: 1), d <= to {
                let label: String
                if stepMonths == 12 {
                    label = String(y)
                } else {
                    label = lastYear == y ? months[m - 1] : "\(months[m - 1]) \(y)"
                }
                list.append(Tick(day: d, label: label))
                lastYear = y
                m += stepMonths
                while m > 12 {
                    m -= 12
                    y += 1
                }
            }
            candidates.append(list)
        }
        for list in candidates where list.count >= 2 && fits(list) { return list }
        // Thin the coarsest until it fits.
        var list = candidates.last ?? []
        var step = 2
        while !fits(list) && list.count > 1 {
            list = stride(from: 0, to: candidates.last?.count ?? 0, by: step).compactMap { candidates.last?[$0] }
            step += 1
        }
        if list.count < 2 {
            return [Tick(day: from, label: from.description), Tick(day: to, label: to.description)].filter { _ in span > 0 }
        }
        return list
    }

    static func seriesName(_ s: Series) -> String { s.rawValue }

    static func statusLabel(_ s: PatientStatus) -> String {
        switch s {
        case .drugHoliday: "drug holiday"
        case .taper: "taper"
        case .taperComplete: "taper complete"
        case .discontinued: "discontinued"
        case .hold: "hold (pregnancy)"
        default: s.rawValue
        }
    }

    static func dose(_ d: Dose) -> String {
        let v = d.value == d.value.rounded() ? String(Int(d.value)) : String(d.value)
        return "\(v) \(d.unit.rawValue)"
    }

    /// The SVG element (no XML prolog), ready to inline in HTML.
    public static func svg(_ input: Input) -> String {
        let h = input.history
        let eval = h.evaluationDay
        let first = min(h.firstDay ?? eval, eval)
        // The axis: the first event to the evaluation date (at least two weeks, so that a new
        // patient's few points are not stretched edge to edge).
        let start = first
        let end = max(eval, start.adding(days: 14))
        let plotW = width - left - right
        let span = Double(max(1, start.days(to: end.adding(days: 1))))
        func x(_ d: Day) -> Double { left + Double(start.days(to: d)) / span * plotW }
        // Day centre: points sit in the middle of their date's column.
        func xc(_ d: Day) -> Double { x(d) + plotW / span / 2 }

        let instruments: [Instrument] = [.phq9, .phq2].filter { i in h.scores.contains { $0.instrument == i } }
        let mainTop = top
        let mainBottom = top + mainHeight
        let laneTop = mainBottom + 4
        let laneBottom = laneTop + laneHeight
        var panelsBottom = laneBottom
        var panelTops: [Instrument: Double] = [:]
        for i in instruments {
            panelTops[i] = panelsBottom + phqGap
            panelsBottom += phqGap + phqHeight
        }
        let axisY = panelsBottom + 4
        let legendTop = axisY + axisHeight + 8
        let legendHeight =
            Double(legendRows(bands: Set(h.bands.map(\.status)), hasInterval: h.intervals.contains { $0.days != nil })) * 20 + 12
        let height = legendTop + legendHeight

        let maxScore = 60.0
        func y(_ v: Double) -> Double { mainBottom - v / maxScore * mainHeight }
        let maxInterval = Double(max(42, (h.intervals.compactMap(\.days).max() ?? 0) + 7))
        func yi(_ days: Double) -> Double { mainBottom - days / maxInterval * mainHeight }

        var s = SVG(reserving: 64 * 1024 + h.scores.count * 260 + h.infusions.count * 260)
        s.open(
            "svg",
            [
                ("xmlns", "http://www.w3.org/2000/svg"), ("viewBox", "0 0 \(SVG.n(width)) \(SVG.n(height))"), ("class", "course-chart"),
                ("role", "img"), ("aria-labelledby", "chart-title chart-desc"), ("data-patient", h.patient),
                ("data-from", start.description), ("data-to", eval.description), ("font-family", "system-ui, sans-serif"),
                ("font-size", SVG.n(labelFont)),
            ])
        s.element("title", [("id", "chart-title")], text: "Course of \(h.patient), \(start) to \(eval)")
        s.element(
            "desc", [("id", "chart-desc")],
            text:
                "\(h.scores.filter { $0.instrument == .madrs }.count) MADRS scores, \(h.infusions.count) infusions, \(h.bands.count) status bands."
        )
        // Patterns: bands differ in texture, not only in tone (grey-scale print).
        s.open("defs")
        let patterns: [(String, [(String, [(String, String)])])] = [
            ("band-drug-holiday", [("path", [("d", "M0,8 L8,0"), ("stroke", "#7a6a00"), ("stroke-width", "1.2")])]),
            ("band-taper", [("path", [("d", "M0,4 L8,4"), ("stroke", "#355c8a"), ("stroke-width", "1")])]),
            ("band-taper-complete", [("circle", [("cx", "4"), ("cy", "4"), ("r", "1.2"), ("fill", "#555")])]),
            ("band-discontinued", [("path", [("d", "M0,0 L8,8 M0,8 L8,0"), ("stroke", "#666"), ("stroke-width", "0.9")])]),
            ("band-hold", [("path", [("d", "M4,0 L4,8"), ("stroke", "#8a2b6b"), ("stroke-width", "1.4")])]),
        ]
        for (id, shapes) in patterns {
            s.open("pattern", [("id", id), ("width", "8"), ("height", "8"), ("patternUnits", "userSpaceOnUse")])
            for (name, attrs) in shapes { s.leaf(name, attrs) }
            s.close()
        }
        s.close()

        // Frame and grid.
        s.leaf(
            "rect",
            [
                ("x", SVG.n(left)), ("y", SVG.n(mainTop)), ("width", SVG.n(plotW)), ("height", SVG.n(mainHeight)), ("fill", "#fff"),
                ("stroke", "#999"),
            ])
        s.open("g", [("class", "grid"), ("stroke", "#e2e2e2"), ("stroke-width", "1")])
        for v in stride(from: 10.0, to: maxScore, by: 10) {
            s.leaf("line", [("x1", SVG.n(left)), ("x2", SVG.n(left + plotW)), ("y1", SVG.n(y(v))), ("y2", SVG.n(y(v)))])
        }
        s.close()

        // Bands (under the data).
        s.open("g", [("class", "bands")])
        for b in h.bands {
            let x0 = x(max(b.from, start))
            let x1 = x(min(b.to, end).adding(days: 1))
            let bw = max(1.5, x1 - x0)
            s.open(
                "g",
                [
                    ("data-kind", "band"), ("data-status", b.status.rawValue), ("data-from", b.from.description),
                    ("data-to", b.to.description),
                ])
            s.shape(
                "rect",
                [
                    ("x", SVG.n(x0)), ("y", SVG.n(mainTop)), ("width", SVG.n(bw)), ("height", SVG.n(laneBottom - mainTop)),
                    ("fill", "url(#band-\(b.status.rawValue))"), ("fill-opacity", "0.55"), ("stroke", "#888"), ("stroke-dasharray", "2 2"),
                ], title: "\(statusLabel(b.status)) \(b.from) to \(b.to)\(b.open ? " (still running)" : "")")
            let label = statusLabel(b.status)
            if bw > labelWidth(label) + 6 {
                let ly = b.status == .hold ? mainTop + 26 : mainTop + 13
                s.element(
                    "text", [("x", SVG.n(x0 + 3)), ("y", SVG.n(ly)), ("fill", "#333"), ("font-size", "11"), ("class", "band-label")],
                    text: label)
            }
            s.close()
        }
        s.close()

        // Threshold lines, per series: baseline, response threshold; remission across.
        s.open("g", [("class", "thresholds"), ("fill", "none")])
        let remY = y(Double(input.remissionMax))
        s.shape(
            "line",
            [
                ("x1", SVG.n(left)), ("x2", SVG.n(left + plotW)), ("y1", SVG.n(remY)), ("y2", SVG.n(remY)), ("stroke", "#1b7a3a"),
                ("stroke-width", "1.5"), ("stroke-dasharray", "10 4"), ("data-kind", "remission"),
                ("data-value", String(input.remissionMax)),
            ], title: "Remission: MADRS ≤ \(input.remissionMax)")
        var thresholdLabels: [(Double, String)] = [(remY, "remission ≤\(input.remissionMax)")]
        for sp in h.series {
            guard let b = sp.baseline else { continue }
            let x0 = x(max(sp.from, start))
            let spanEnd = h.series.last == sp ? end.adding(days: 1) : sp.to.adding(days: 1)
            let x1 = x(spanEnd)
            let by = y(Double(b))
            let threshold = Double(b) * (1 - input.responseReduction)
            let ry = y(threshold)
            s.shape(
                "line",
                [
                    ("x1", SVG.n(x0)), ("x2", SVG.n(x1)), ("y1", SVG.n(by)), ("y2", SVG.n(by)), ("stroke", "#444"), ("stroke-width", "1.5"),
                    ("stroke-dasharray", "4 3"), ("data-kind", "baseline"), ("data-series", String(sp.number)), ("data-value", String(b)),
                ], title: "Baseline MADRS \(b) (series \(sp.number))")
            s.shape(
                "line",
                [
                    ("x1", SVG.n(x0)), ("x2", SVG.n(x1)), ("y1", SVG.n(ry)), ("y2", SVG.n(ry)), ("stroke", "#a05a00"),
                    ("stroke-width", "1.5"),
                    ("stroke-dasharray", "1 3"), ("stroke-linecap", "round"), ("data-kind", "response"), ("data-series", String(sp.number)),
                    ("data-value", number(threshold)),
                ], title: "Response threshold: MADRS ≤ \(number(threshold)) (baseline \(b) × \(number(1 - input.responseReduction)))")
            if sp == h.series.last {
                thresholdLabels.append((by, "baseline \(b)"))
                thresholdLabels.append((ry, "response ≤\(number(threshold))"))
            }
        }
        s.close()

        // Interval step line (right axis).
        let steps = h.intervals
        if steps.contains(where: { $0.days != nil }) {
            s.open(
                "g",
                [("class", "interval"), ("fill", "none"), ("stroke", "#2a5599"), ("stroke-width", "2"), ("stroke-dasharray", "7 3")])
            var d = ""
            var runOpen = false
            for (i, st) in steps.enumerated() {
                let stepEnd = i + 1 < steps.count ? steps[i + 1].from : end.adding(days: 1)
                guard let days = st.days else {
                    runOpen = false
                    continue
                }
                let yy = SVG.n(yi(Double(days)))
                d += (runOpen ? " L" : " M") + SVG.n(x(max(st.from, start))) + "," + yy + " L" + SVG.n(x(stepEnd)) + "," + yy
                runOpen = true
                if i + 1 < steps.count, steps[i + 1].days == nil { runOpen = false }
            }
            s.leaf("path", [("d", String(d.dropFirst())), ("data-kind", "interval-line")])
            s.close()
            s.open("g", [("class", "interval-steps")])
            for st in steps {
                guard let days = st.days else { continue }
                s.shape(
                    "rect",
                    [
                        ("x", SVG.n(x(max(st.from, start)) - 2.5)), ("y", SVG.n(yi(Double(days)) - 2.5)), ("width", "5"), ("height", "5"),
                        ("fill", "#2a5599"), ("data-kind", "interval"), ("data-date", st.from.description), ("data-days", String(days)),
                    ], title: "Interval \(days) days from \(st.from)")
            }
            s.close()
        }

        // Score line and points: MADRS in the main panel.
        let madrs = h.scores.filter { $0.instrument == .madrs }.sorted { ($0.day, $0.sequence) < ($1.day, $1.sequence) }
        drawScores(&s, madrs, instrument: .madrs, x: xc, y: y, radius: 3.2, stroke: "#111")

        // Step backs and relapses: markers at the top of the main panel.
        s.open("g", [("class", "markers")])
        for m in h.markers where m.day >= start && m.day <= end {
            // Kept inside the plot: a marker on the evaluation date would sit on the right axis's labels.
            let cx = min(xc(m.day), left + plotW - 6)
            switch m.kind {
            case .stepBack:
                let yy = mainTop + 8
                s.shape(
                    "path",
                    [
                        (
                            "d",
                            "M\(SVG.n(cx - 5)),\(SVG.n(yy - 5)) L\(SVG.n(cx + 5)),\(SVG.n(yy + 5)) M\(SVG.n(cx - 5)),\(SVG.n(yy + 5)) L\(SVG.n(cx + 5)),\(SVG.n(yy - 5))"
                        ),
                        ("stroke", "#b00020"), ("stroke-width", "2.2"), ("data-kind", "step-back"), ("data-date", m.day.description),
                        ("data-event", m.eventId.uuidString.lowercased()),
                    ], title: "Step back \(m.day): \(m.detail)")
                s.leaf(
                    "line",
                    [
                        ("x1", SVG.n(cx)), ("x2", SVG.n(cx)), ("y1", SVG.n(yy + 6)), ("y2", SVG.n(mainBottom)), ("stroke", "#b00020"),
                        ("stroke-width", "0.8"), ("stroke-dasharray", "2 3"),
                    ])
            case .relapse:
                let yy = mainTop + 9
                s.shape(
                    "path",
                    [
                        ("d", star(cx: cx, cy: yy, r: 7)), ("fill", "#b00020"), ("stroke", "#000"), ("stroke-width", "0.6"),
                        ("data-kind", "relapse"), ("data-date", m.day.description), ("data-event", m.eventId.uuidString.lowercased()),
                    ], title: "Relapse \(m.day): \(m.detail)")
            }
        }
        s.close()

        // Infusion lane.
        s.leaf(
            "rect",
            [
                ("x", SVG.n(left)), ("y", SVG.n(laneTop)), ("width", SVG.n(plotW)), ("height", SVG.n(laneHeight)), ("fill", "#f6f6f6"),
                ("stroke", "#bbb"),
            ])
        s.element("text", [("x", SVG.n(left - 4)), ("y", SVG.n(laneTop + 17)), ("text-anchor", "end"), ("font-size", "10")], text: "inf.")
        s.open("g", [("class", "infusions"), ("stroke", "#000"), ("stroke-width", "0.8")])
        let laneY = laneTop + laneHeight / 2
        for inf in h.infusions.sorted(by: { ($0.day, $0.sequence) < ($1.day, $1.sequence) }) {
            let cx = xc(inf.day)
            var attrs: [(String, String)]
            let r = 5.0
            switch inf.series {
            case .acute:
                attrs = [
                    (
                        "d",
                        "M\(SVG.n(cx)),\(SVG.n(laneY - r)) L\(SVG.n(cx + r)),\(SVG.n(laneY + r * 0.8)) L\(SVG.n(cx - r)),\(SVG.n(laneY + r * 0.8)) Z"
                    ),
                    ("fill", "#e0a100"),
                ]
            case .maintenance:
                attrs = [
                    ("d", "M\(SVG.n(cx - r * 0.8)),\(SVG.n(laneY - r * 0.8)) h\(SVG.n(r * 1.6)) v\(SVG.n(r * 1.6)) h-\(SVG.n(r * 1.6)) Z"),
                    ("fill", "#2a5599"),
                ]
            case .booster:
                attrs = [
                    (
                        "d",
                        "M\(SVG.n(cx)),\(SVG.n(laneY - r - 1)) L\(SVG.n(cx + r)),\(SVG.n(laneY)) L\(SVG.n(cx)),\(SVG.n(laneY + r + 1)) L\(SVG.n(cx - r)),\(SVG.n(laneY)) Z"
                    ),
                    ("fill", "#fff"),
                ]
            }
            attrs += [
                ("data-kind", "infusion"), ("data-series", inf.series.rawValue), ("data-date", inf.day.description),
                ("data-event", inf.eventId.uuidString.lowercased()), ("data-dose", dose(inf.dose)), ("data-route", inf.route.rawValue),
            ]
            var tip = "\(inf.series.rawValue.capitalized) infusion \(inf.day): \(dose(inf.dose)) \(inf.route.rawValue)"
            if let j = inf.justification, !j.isEmpty { tip += " (justification: \(j))" }
            // The session's observations (R13): the lowest readings a clinician looks for.
            var session: [String] = []
            if let v = inf.lowestSpo2 { session.append("lowest SpO2 \(number(v))%") }
            if let v = inf.lowestMoaas { session.append("lowest MOAA/S \(v)") }
            if !session.isEmpty { tip += "; " + session.joined(separator: ", ") }
            s.shape("path", attrs, title: tip)
        }
        s.close()

        // PHQ panels.
        for i in instruments {
            guard let pt = panelTops[i] else { continue }
            let maxV = Double(i.range.upperBound)
            func py(_ v: Double) -> Double { pt + phqHeight - v / maxV * phqHeight }
            s.leaf(
                "rect",
                [
                    ("x", SVG.n(left)), ("y", SVG.n(pt)), ("width", SVG.n(plotW)), ("height", SVG.n(phqHeight)), ("fill", "#fff"),
                    ("stroke", "#999"),
                ])
            let name = i == .phq9 ? "PHQ-9" : "PHQ-2"
            s.element("text", [("x", SVG.n(left + 4)), ("y", SVG.n(pt + 12)), ("font-size", "11"), ("fill", "#333")], text: name)
            for v in [0.0, maxV] {
                s.element(
                    "text", [("x", SVG.n(left - 6)), ("y", SVG.n(py(v) + 4)), ("text-anchor", "end"), ("font-size", "10")],
                    text: SVG.n(v))
            }
            let points = h.scores.filter { $0.instrument == i }.sorted { ($0.day, $0.sequence) < ($1.day, $1.sequence) }
            drawScores(&s, points, instrument: i, x: xc, y: py, radius: 2.6, stroke: i == .phq9 ? "#5b3b8c" : "#0b6e6e")
        }

        // Axes.
        s.open("g", [("class", "axes"), ("fill", "#222")])
        for v in stride(from: 0.0, through: maxScore, by: 10) {
            s.element(
                "text", [("x", SVG.n(left - 6)), ("y", SVG.n(y(v) + 4)), ("text-anchor", "end")], text: SVG.n(v))
        }
        s.element(
            "text",
            [
                ("x", "12"), ("y", SVG.n((mainTop + mainBottom) / 2)), ("transform", "rotate(-90 12 \(SVG.n((mainTop + mainBottom) / 2)))"),
                ("text-anchor", "middle"),
            ], text: "MADRS")
        let axisX = left + plotW
        for v in stride(from: 0.0, through: maxInterval, by: 7) {
            s.element("text", [("x", SVG.n(axisX + 5)), ("y", SVG.n(yi(v) + 4)), ("fill", "#2a5599")], text: SVG.n(v))
        }
        s.element(
            "text", [("x", SVG.n(axisX + 30)), ("y", SVG.n(mainTop - 8)), ("fill", "#2a5599"), ("text-anchor", "middle")],
            text: "interval (days)")
        // Threshold labels inside the plot at its right end, just above their lines, pushed apart.
        var placed: [Double] = []
        for (ly, text) in thresholdLabels.sorted(by: { $0.0 > $1.0 }) {
            var yy = ly - 3
            if let last = placed.last, last - yy < 14 { yy = last - 14 }
            placed.append(yy)
            s.element(
                "text",
                [
                    ("x", SVG.n(axisX - 4)), ("y", SVG.n(yy)), ("font-size", "11"), ("fill", "#222"), ("text-anchor", "end"),
                    ("stroke", "#fff"), ("stroke-width", "3"), ("paint-order", "stroke"), ("class", "threshold-label"),
                ], text: text)
        }
        // Time axis.
        s.leaf("line", [("x1", SVG.n(left)), ("x2", SVG.n(axisX)), ("y1", SVG.n(axisY)), ("y2", SVG.n(axisY)), ("stroke", "#444")])
        for t in ticks(from: start, to: end, pixels: plotW) {
            let tx = x(t.day)
            s.leaf(
                "line",
                [
                    ("x1", SVG.n(tx)), ("x2", SVG.n(tx)), ("y1", SVG.n(mainTop)), ("y2", SVG.n(axisY + 4)), ("stroke", "#000"),
                    ("stroke-opacity", "0.12"),
                ])
            s.element(
                "text",
                [
                    ("x", SVG.n(tx)), ("y", SVG.n(axisY + 17)), ("text-anchor", "middle"), ("class", "tick"),
                    ("data-date", t.day.description),
                ],
                text: t.label)
        }
        // The evaluation date.
        let ex = x(eval.adding(days: 1))
        s.shape(
            "line",
            [
                ("x1", SVG.n(ex)), ("x2", SVG.n(ex)), ("y1", SVG.n(mainTop)), ("y2", SVG.n(axisY)), ("stroke", "#000"),
                ("stroke-width", "1.2"),
                ("data-kind", "evaluation-date"), ("data-date", eval.description),
            ], title: "Evaluation date \(eval)")
        s.close()

        // Due markers at the right edge (on the axis when already past).
        s.open("g", [("class", "due")])
        var dueY = mainBottom - 8
        if let due = input.nextInfusionDue {
            drawDue(&s, kind: "next-due", day: due, eval: eval, x: xc, gutterX: axisX + 40, y: dueY, label: "next infusion", extra: [])
            dueY -= 64
        }
        if let m = input.monitoringDue {
            drawDue(
                &s, kind: "monitoring-due", day: m.day, eval: eval, x: xc, gutterX: axisX + 40, y: dueY, label: m.item,
                extra: [("data-item", m.item)])
        }
        s.close()

        // Legend.
        drawLegend(
            &s, top: legendTop, bands: Set(h.bands.map(\.status)), hasInterval: steps.contains { $0.days != nil }, instruments: instruments)
        return s.finish()
    }

    static func number(_ v: Double) -> String {
        if v == v.rounded() { return String(Int(v)) }
        return String((v * 100).rounded() / 100)
    }

    /// A five-pointed star's corners on the unit circle (outer radius 1, inner 0.45).
    static let starPoints: [(Double, Double)] = [
        (0.0000, -1.0000), (0.2645, -0.3641), (0.9511, -0.3090), (0.4280, 0.1391), (0.5878, 0.8090), (0.0000, 0.4500), (-0.5878, 0.8090),
        (-0.4280, 0.1391), (-0.9511, -0.3090), (-0.2645, -0.3641),
    ]

    static func star(cx: Double, cy: Double, r: Double) -> String {
        var d = ""
        for (k, p) in starPoints.enumerated() {
            d += (k == 0 ? "M" : " L") + SVG.n(cx + r * p.0) + "," + SVG.n(cy + r * p.1)
        }
        return d + " Z"
    }

    static func drawScores(
        _ s: inout SVG, _ points: [CourseHistory.ScorePoint], instrument: Instrument, x: (Day) -> Double, y: (Double) -> Double,
        radius: Double, stroke: String
    ) {
        guard !points.isEmpty else { return }
        s.open("g", [("class", "scores"), ("data-instrument", instrument.rawValue)])
        if points.count > 1 {
            var d = ""
            for (k, p) in points.enumerated() {
                d += (k == 0 ? "M" : " L") + SVG.n(x(p.day)) + "," + SVG.n(y(Double(p.value)))
            }
            s.leaf("path", [("d", d), ("fill", "none"), ("stroke", stroke), ("stroke-width", "1.8"), ("stroke-linejoin", "round")])
        }
        let name = instrument == .madrs ? "MADRS" : instrument == .phq9 ? "PHQ-9" : "PHQ-2"
        for p in points {
            s.shape(
                "circle",
                [
                    ("cx", SVG.n(x(p.day))), ("cy", SVG.n(y(Double(p.value)))), ("r", SVG.n(radius)), ("fill", "#fff"), ("stroke", stroke),
                    ("stroke-width", "1.5"), ("data-kind", "score"), ("data-instrument", instrument.rawValue),
                    ("data-date", p.day.description), ("data-value", String(p.value)), ("data-event", p.eventId.uuidString.lowercased()),
                ], title: "\(name) \(p.value) on \(p.day)")
        }
        s.close()
    }

    static func drawDue(
        _ s: inout SVG, kind: String, day: Day, eval: Day, x: (Day) -> Double, gutterX: Double, y: Double, label: String,
        extra: [(String, String)]
    ) {
        let overdue = day < eval
        let when = overdue ? "overdue \(day.days(to: eval)) days" : day == eval ? "due today" : "in \(eval.days(to: day)) days"
        s.open("g", [("data-kind", kind), ("data-date", day.description)] + extra)
        // A flag in the gutter, right of the evaluation date.
        let fx = gutterX
        s.shape(
            "path",
            [
                (
                    "d",
                    "M\(SVG.n(fx - 6)),\(SVG.n(y - 14)) L\(SVG.n(fx - 6)),\(SVG.n(y + 6)) M\(SVG.n(fx - 6)),\(SVG.n(y - 14)) L\(SVG.n(fx + 4)),\(SVG.n(y - 9)) L\(SVG.n(fx - 6)),\(SVG.n(y - 4))"
                ),
                ("stroke", overdue ? "#b00020" : "#000"), ("stroke-width", "1.6"), ("fill", overdue ? "#b00020" : "#fff"),
            ], title: "\(label): \(day) (\(when))")
        // The label on one or two lines (a long item name split at a hyphen), then the date and how far.
        var lines: [String] = [label]
        if label.count > 16,
            let cut = label.indices.filter({ label[$0] == "-" }).min(by: {
                abs(label.distance(from: label.startIndex, to: $0) - label.count / 2)
                    < abs(label.distance(from: label.startIndex, to: $1) - label.count / 2)
            })
        {
            lines = [String(label[...cut]), String(label[label.index(after: cut)...])]
        }
        var ly = y - 6
        for l in lines {
            s.element("text", [("x", SVG.n(fx + 8)), ("y", SVG.n(ly)), ("font-size", "11"), ("font-weight", "600")], text: l)
            ly += 14
        }
        s.element("text", [("x", SVG.n(fx + 8)), ("y", SVG.n(ly)), ("font-size", "11")], text: day.description)
        s.element(
            "text", [("x", SVG.n(fx + 8)), ("y", SVG.n(ly + 14)), ("font-size", "11"), ("fill", overdue ? "#b00020" : "#222")], text: when)
        if overdue {
            // Past the date: also mark it on the axis.
            let ax = x(day)
            s.leaf(
                "line",
                [
                    ("x1", SVG.n(ax)), ("x2", SVG.n(ax)), ("y1", SVG.n(top)), ("y2", SVG.n(top + mainHeight)), ("stroke", "#b00020"),
                    ("stroke-dasharray", "3 2"),
                ])
        }
        s.close()
    }

    /// The legend's labels in order (the bands only when drawn).
    static func legendLabels(bands: Set<PatientStatus>, hasInterval: Bool) -> [String] {
        ["MADRS", "acute infusion", "maintenance infusion", "booster"] + (hasInterval ? ["interval (right axis)"] : [])
            + ["baseline", "response threshold", "remission", "step back", "relapse"]
            + [PatientStatus.drugHoliday, .taper, .taperComplete, .discontinued, .hold].filter(bands.contains).map(statusLabel)
    }

    /// A legend item's width: the symbol, the label at up to 13 px (the print and narrow-screen
    /// size; DejaVu Sans averages ~0.6 em a character) and a gap.
    static func legendItemWidth(_ label: String) -> Double { 40 + Double(label.count) * 7.8 }

    /// Where each legend item goes: an item that would cross the right edge starts a new row.
    static func legendPlaces(_ labels: [String]) -> [(x: Double, row: Int)] {
        var out: [(x: Double, row: Int)] = []
        var x = left
        var row = 0
        for l in labels {
            let w = legendItemWidth(l)
            if x > left, x + w > width - 8 {
                x = left
                row += 1
            }
            out.append((x, row))
            x += w
        }
        return out
    }

    static func legendRows(bands: Set<PatientStatus>, hasInterval: Bool) -> Int {
        (legendPlaces(legendLabels(bands: bands, hasInterval: hasInterval)).last?.row ?? 0) + 1
    }

    static func drawLegend(_ s: inout SVG, top: Double, bands: Set<PatientStatus>, hasInterval: Bool, instruments: [Instrument]) {
        s.open("g", [("class", "legend"), ("font-size", "11")])
        let places = legendPlaces(legendLabels(bands: bands, hasInterval: hasInterval))
        var next = 0
        func item(_ label: String, _ draw: (inout SVG, Double, Double) -> Void) {
            let place = next < places.count ? places[next] : (x: left, row: 0)
            next += 1
            let lx = place.x
            let ly = top + 10 + Double(place.row) * 20
            draw(&s, lx, ly)
            s.element("text", [("x", SVG.n(lx + 26)), ("y", SVG.n(ly + 4))], text: label)
        }
        item("MADRS") { s, x, y in
            s.leaf(
                "line",
                [("x1", SVG.n(x)), ("x2", SVG.n(x + 20)), ("y1", SVG.n(y)), ("y2", SVG.n(y)), ("stroke", "#111"), ("stroke-width", "1.8")])
            s.leaf(
                "circle",
                [("cx", SVG.n(x + 10)), ("cy", SVG.n(y)), ("r", "3.2"), ("fill", "#fff"), ("stroke", "#111"), ("stroke-width", "1.5")])
        }
        for (series, label) in [(Series.acute, "acute infusion"), (.maintenance, "maintenance infusion"), (.booster, "booster")] {
            item(label) { s, x, y in
                let cx = x + 10
                let r = 5.0
                switch series {
                case .acute:
                    s.leaf(
                        "path",
                        [
                            (
                                "d",
                                "M\(SVG.n(cx)),\(SVG.n(y - r)) L\(SVG.n(cx + r)),\(SVG.n(y + r * 0.8)) L\(SVG.n(cx - r)),\(SVG.n(y + r * 0.8)) Z"
                            ), ("fill", "#e0a100"), ("stroke", "#000"), ("stroke-width", "0.8"),
                        ])
                case .maintenance:
                    s.leaf(
                        "rect",
                        [
                            ("x", SVG.n(cx - 4)), ("y", SVG.n(y - 4)), ("width", "8"), ("height", "8"), ("fill", "#2a5599"),
                            ("stroke", "#000"), ("stroke-width", "0.8"),
                        ])
                case .booster:
                    s.leaf(
                        "path",
                        [
                            (
                                "d",
                                "M\(SVG.n(cx)),\(SVG.n(y - 6)) L\(SVG.n(cx + 5)),\(SVG.n(y)) L\(SVG.n(cx)),\(SVG.n(y + 6)) L\(SVG.n(cx - 5)),\(SVG.n(y)) Z"
                            ), ("fill", "#fff"), ("stroke", "#000"), ("stroke-width", "0.8"),
                        ])
                }
            }
        }
        if hasInterval {
            item("interval (right axis)") { s, x, y in
                s.leaf(
                    "line",
                    [
                        ("x1", SVG.n(x)), ("x2", SVG.n(x + 20)), ("y1", SVG.n(y)), ("y2", SVG.n(y)), ("stroke", "#2a5599"),
                        ("stroke-width", "2"), ("stroke-dasharray", "7 3"),
                    ])
            }
        }
        for (label, color, dash) in [
            ("baseline", "#444", "4 3"), ("response threshold", "#a05a00", "1 3"), ("remission", "#1b7a3a", "10 4"),
        ] {
            item(label) { s, x, y in
                s.leaf(
                    "line",
                    [
                        ("x1", SVG.n(x)), ("x2", SVG.n(x + 20)), ("y1", SVG.n(y)), ("y2", SVG.n(y)), ("stroke", color),
                        ("stroke-width", "1.8"), ("stroke-dasharray", dash), ("stroke-linecap", "round"),
                    ])
            }
        }
        item("step back") { s, x, y in
            s.leaf(
                "path",
                [
                    (
                        "d",
                        "M\(SVG.n(x + 5)),\(SVG.n(y - 5)) L\(SVG.n(x + 15)),\(SVG.n(y + 5)) M\(SVG.n(x + 5)),\(SVG.n(y + 5)) L\(SVG.n(x + 15)),\(SVG.n(y - 5))"
                    ), ("stroke", "#b00020"), ("stroke-width", "2.2"),
                ])
        }
        item("relapse") { s, x, y in
            s.leaf("path", [("d", star(cx: x + 10, cy: y, r: 7)), ("fill", "#b00020"), ("stroke", "#000"), ("stroke-width", "0.6")])
        }
        for status in [PatientStatus.drugHoliday, .taper, .taperComplete, .discontinued, .hold] where bands.contains(status) {
            item(statusLabel(status)) { s, x, y in
                s.leaf(
                    "rect",
                    [
                        ("x", SVG.n(x)), ("y", SVG.n(y - 7)), ("width", "20"), ("height", "14"), ("fill", "url(#band-\(status.rawValue))"),
                        ("stroke", "#888"),
                    ])
            }
        }
        _ = instruments
        s.close()
    }
}
