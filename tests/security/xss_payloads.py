"""Cross-site scripting payloads entered everywhere text goes in (tests/security/test_xss_browser.py).

Each payload, if it ever ran, calls ``alert``/``confirm``/``prompt``, ``print`` or sets
``window.__pwned`` — all hooked by the test page before anything else loads — or creates
an element whose id starts with ``xss``. Families: script tags, event handlers, SVG/MathML,
``javascript:`` and ``data:`` URLs, markdown-link tricks, attribute and template
breakouts, Unicode look-alikes and encodings, CSS and meta tricks, and spreadsheet formulas
(for the CSV export).
"""

from __future__ import annotations

PAYLOADS: list[str] = [
    # script tags
    "<script>alert(1)</script>",
    "<script id=xss1>window.__pwned='script'</script>",
    "<SCRIPT SRC=data:text/javascript,alert(2)></SCRIPT>",
    "<script>/*</script><script>alert(3)//*/</script>",
    "<scr<script>ipt>alert(4)</scr</script>ipt>",
    "</textarea><script>alert(5)</script>",
    "</title><script>alert(6)</script>",
    "</script><script>alert(7)</script>",
    # event handlers
    "<img src=x id=xss2 onerror=alert(8)>",
    "<img src=x onerror=\"window.__pwned='img'\">",
    "<body onload=alert(9)>",
    "<div id=xss3 onmouseover=alert(10) style=position:fixed;inset:0>hover</div>",
    "<input id=xss4 autofocus onfocus=alert(11)>",
    "<details id=xss5 open ontoggle=alert(12)>",
    "<video id=xss6><source onerror=alert(13)></video>",
    "<audio src=x onerror=alert(14)>",
    "<marquee onstart=alert(15)>m</marquee>",
    "<iframe id=xss7 srcdoc=\"<script>parent.alert(16)</script>\"></iframe>",
    "<object data=\"javascript:alert(17)\"></object>",
    "<embed src=\"javascript:alert(18)\">",
    # SVG and MathML
    "<svg onload=alert(19)>",
    "<svg><script>alert(20)</script></svg>",
    "<svg><animate onbegin=alert(21) attributeName=x dur=1s>",
    "<svg><a xlink:href=\"javascript:alert(22)\"><text x=20 y=20>click</text></a></svg>",
    "<svg><foreignObject><iframe srcdoc=\"<script>parent.alert(23)</script>\"></iframe></foreignObject></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(24)>",
    "<svg><style><img src=x onerror=alert(25)></style></svg>",
    # javascript: and data: URLs
    "<a id=xss8 href=\"javascript:alert(26)\">click me</a>",
    "javascript:alert(27)",
    "JaVaScRiPt:alert(28)",
    "java\tscript:alert(29)",
    "<a href=\"data:text/html,<script>alert(30)</script>\">data link</a>",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgzMSk8L3NjcmlwdD4=",
    "<form action=\"javascript:alert(32)\"><button id=xss9>go</button></form>",
    "<base href=\"javascript:alert(33)//\">",
    # markdown-link tricks
    "[click](javascript:alert(34))",
    "[a](javascript:window.__pwned='md')",
    "![img](x\" onerror=\"alert(35))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgzNik8L3NjcmlwdD4=)",
    "<https://example.com\" onmouseover=\"alert(37)>",
    "[link](https://ok.example \"title\\\" onmouseover=alert(38) x=\\\"\")",
    # attribute and template breakouts
    "\"><img src=x onerror=alert(39)>",
    "'><svg onload=alert(40)>",
    "\" autofocus onfocus=\"alert(41)\" x=\"",
    "' onmouseover='alert(42)' x='",
    "`><img src=x onerror=alert(43)>",
    "${alert(44)}",
    "{{constructor.constructor('alert(45)')()}}",
    "<%= alert(46) %>",
    "#{alert(47)}",
    "__CSRF_TOKEN__<img src=x onerror=alert(48)>__USER_NAME__",
    "</style><script>alert(49)</script>",
    "<!--<img src=\"--><img src=x onerror=alert(50)//\">",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(51)>\">",
    # Unicode look-alikes and encodings
    "＜script＞alert(52)＜/script＞",
    "\u003cimg src=x onerror=alert(53)\u003e",
    "&lt;img src=x onerror=alert(54)&gt;",
    "&#60;script&#62;alert(55)&#60;/script&#62;",
    "%3Cscript%3Ealert(56)%3C/script%3E",
    "<img src=x onerror=&#97;&#108;&#101;&#114;&#116;(57)>",
    "\u202e>gmi<",
    "ʼ><img src=x onerror=alert(58)>",
    # CSS, meta and other tricks
    "<style>body{background:url(\"javascript:alert(59)\")}</style>",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(60)\">",
    "<link rel=stylesheet href=\"javascript:alert(61)\">",
    "<isindex type=image src=1 onerror=alert(62)>",
    "<template><img src=x onerror=alert(63)></template><div id=xss10></div>",
    "<x onclick=alert(64) id=xss11>click</x>",
    # spreadsheet formulas (CSV export)
    "=HYPERLINK(\"https://evil.example\",\"click\")",
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
]

FORMULA_STARTS = ("=", "+", "-", "@")

# A short form for places with a length limit (display names: 100, tags: 48).
SHORT = [p for p in PAYLOADS if len(p) <= 60]
