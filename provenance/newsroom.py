"""Newsroom conventions in several languages: agency names, the ways a text credits an agency,
and the page furniture that wraps a story (app and social promos, newsletter and cookie lines,
"read also" links, bylines, agency signature lines).

Pure data and compiled patterns, shared by `clean` (what is furniture) and `attribution` (which
agency a text credits). Languages covered: en, de, fr, es, it, pt, ru, ar. Patterns are written
for whole paragraph blocks; each furniture rule carries the `reason` a report shows.
"""

from __future__ import annotations

import re

from .names import lower_as_ignorecase

_I = re.IGNORECASE

# Canonical agency -> spellings (regex fragments), Latin, Cyrillic and Arabic script. Arabic forms
# are given without the word "وكالة" (agency), which the credit patterns supply.
AGENCIES: dict[str, tuple[str, ...]] = {
    "AFP": ("AFP", r"Agence France[- ]Presse", "فرانس برس", "فرانس بريس", "الصحافة الفرنسية", "أ ف ب",
            "ا ف ب", r"Франс[- ]Пресс"),
    "Reuters": ("Reuters", "REUTERS", "رويترز", r"Рейтер(?:с|а|у|ом)?"),
    "AP": ("AP", "Associated Press", "أسوشيتد برس", "أسوشيتيد برس", "أ ب", "Ассошиэйтед Пресс"),
    "DPA": ("dpa", "DPA", r"Deutsche[n]? Presse-Agentur", "د ب أ", "الأنباء الألمانية"),
    "EFE": ("EFE", "إفي"),
    "ANSA": ("ANSA", "Ansa"),
    "Xinhua": ("Xinhua", "شينخوا", "Синьхуа"),
    "Anadolu": (r"Anadolu(?: Agency| Ajansı)?", "الأناضول"),
    "Bloomberg": ("Bloomberg",), "UPI": ("UPI",), "Kyodo": ("Kyodo",),
    "TASS": ("TASS", "ИТАР-ТАСС", "ТАСС"),
    "PA": ("PA Media",),
    "Lusa": ("Lusa", "LUSA"),
    "RIA Novosti": ("RIA Novosti", "РИА Новости", "РИА «Новости»"),
    "Interfax": ("Interfax", r"Интерфакс(?:а|у|ом)?"),
    "APA": ("APA", "Austria Presse Agentur"),
    "Keystone-SDA": ("Keystone-SDA", "Keystone-ATS", "SDA", "ATS"),
    "Belga": ("Belga", "BELGA"),
    "ANP": ("ANP",),
    "PAP": ("PAP",),
    "ČTK": ("ČTK", "CTK"),
    "Agerpres": ("Agerpres", "AGERPRES"),
    "MENA": ("MENA", "أ ش أ", "أنباء الشرق الأوسط"),
    "WAM": ("WAM", "وام", "أنباء الإمارات"),
    "QNA": ("QNA", "قنا", "الأنباء القطرية"),
    "KUNA": ("KUNA", "كونا", "الأنباء الكويتية"),
    "SPA": ("SPA", "واس", "الأنباء السعودية"),
    "epd": ("epd",), "KNA": ("KNA",),
}
# Acronyms that are also ordinary abbreviations ("the MENA region", "Air Traffic Services (ATS)"):
# in parentheses they count only as a signature (dateline, end of paragraph, "/initials").
AMBIGUOUS = frozenset({"AP", "APA", "ANP", "PAP", "SPA", "MENA", "WAM", "QNA", "KUNA", "Keystone-SDA", "KNA"})

_ALL = sorted((v for vs in AGENCIES.values() for v in vs), key=lambda v: -len(v.replace("\\", "")))
AGENCY_ALT = "|".join(_ALL)
# The agency token: case-sensitive inside case-insensitive patterns ("told AP", never "told ap"),
# and case-insensitive where a signature convention writes it in lower case ("(afp)", "(dpa/jar)").
AG = rf"(?-i:(?P<ag>{AGENCY_ALT}))(?!\w)"
AG_ANY_CASE = rf"(?P<ag>{AGENCY_ALT})(?!\w)"
_CANON = [(name, re.compile("|".join(vs))) for name, vs in AGENCIES.items()]


def agency_name(token: str) -> str:
    """The canonical agency for a matched spelling ("afp" -> "AFP", "Интерфакса" -> "Interfax")."""
    for name, pat in _CANON:
        if pat.fullmatch(token):
            return name
    for name, pat in _CANON:
        if re.fullmatch(pat.pattern, token, _I):
            return name
    return "unknown"


# --- text credits: (name of the convention, pattern); each pattern has one `ag` group -----------

_AUX_FR = r"(?:(?:a|ont|avait|avaient|aurait)\s+)?"
_TOLD_FR = r"(?:déclaré|dit|indiqué|confirmé|expliqué|affirmé|précisé|raconté|assuré|confié|souligné|annoncé)e?s?"
_VERB_DE = (r"(?:berichtet|berichtete|berichten|meldet|meldete|schreibt|schrieb|sagt|sagte|sagten|erklärte|"
            r"bestätigte|teilte)")
_VERB_ES = r"(?:dijo|declaró|explicó|confirmó|aseguró|indicó|afirmó|señaló|contó|informó|relató|precisó|detalló)"
_VERB_IT = r"(?:detto|dichiarato|spiegato|confermato|riferito|raccontato|annunciato)"
_VERB_PT = r"(?:disse|afirmou|declarou|contou|explicou|confirmou|informou|adiantou|avançou|revelou|garantiu)"
_VERB_RU = (r"(?:сообщает|сообщают|сообщил[аио]?|передает|передаёт|передал[аио]?|заявил[аи]?|рассказал[аи]?|"
            r"сказал[аи]?|подтвердил[аи]?|пишет|пишут|уточнил[аи]?)")
_VERB_AR = r"(?:قال|قالت|ذكرت|أفادت|نقلت|أوردت|أعلنت|بحسب|حسب|وفقا\s*ل|وفقاً\s*ل|نقلا\s+عن|نقلاً\s+عن)"

CREDIT_CUES: list[tuple[str, re.Pattern]] = [(name, re.compile(p, _I | re.MULTILINE)) for name, p in [
    # "(AFP)", "BERLIN (dpa) -", "(AFP/fur)", "(DPA/jar)", "(afp)", "(Reuters/AFP)", "(أ ف ب)"
    ("signature", rf"\(\s*{AG_ANY_CASE}(?:\s*[/,]\s*[\w.]{{1,12}})*\s*\)"),
    ("told", rf"\b(?:told|according to|quoted by|reported by|cited by|said to|interviewed by|speaking to)"
             rf"\s+(?:the\s+)?{AG}"),
    ("reported", rf"\b{AG}\s+(?:reported|said|learned|contributed)"),
    ("trailing dash", rf"(?:^|\n)[^\n]{{0,40}}[-–—]\s*{AG}\s*$"),
    # "© AFP", "© 2020 Lusa", "Copyright 2024 The Associated Press", "(c) 2023 Reuters"
    ("copyright", rf"(?:©|\(c\)|copyright)\s{{0,3}}(?:©\s{{0,3}})?(?:\d{{4}}(?:\s{{0,3}}[-–]\s{{0,3}}\d{{4}})?"
                  rf"(?:\s{{0,3}},)?\s{{0,3}})?(?:the\s{{1,3}})?{AG}"),
    ("with", rf"\b(?:with|additional reporting by|avec|mit)\s+(?:l['’]\s*)?{AG}"),
    # fr: "a confirmé à l'AFP", "selon l'AFP", "selon l'agence allemande dpa", "interrogé par l'AFP"
    ("fr told", rf"\b{_AUX_FR}{_TOLD_FR}\s+à\s+(?:l['’]\s*|l['’]agence\s+(?:\w+\s+)?)?{AG}"),
    ("fr according", rf"\b(?:selon|d['’]après|interrogée?s?\s+par|auprès\s+de|a\s+appris|rapporte|rapportait)\s+"
                     rf"(?:l['’]\s*|la\s+|le\s+)?(?:agence\s+(?:de\s+presse\s+)?(?:\w+\s+)?)?{AG}"),
    ("fr to", rf"\bà\s+l['’]\s*{AG}"),
    # de: "berichtet die dpa", "sagte ein Sprecher der Nachrichtenagentur dpa", "Mit Material von dpa"
    ("de told", rf"\b{_VERB_DE}\s+(?:\w+\s+){{0,3}}?(?:der|die|dem|den)\s+(?:Nachrichtenagentur\s+|Agentur\s+)?{AG}"),
    ("de agency", rf"\b(?:Nachrichtenagentur|Presseagentur|Agentur)\s+{AG}"),
    ("de according", rf"\b(?:laut|zufolge|gegenüber|nach\s+Angaben\s+der|nach\s+Informationen\s+der|wie)\s+"
                     rf"(?:der\s+|die\s+|dem\s+)?(?:Nachrichtenagentur\s+)?{AG}"),
    ("de reported", rf"\b{AG}\s+(?:berichtet|berichtete|meldet|meldete|zufolge|erfuhr)"),
    ("de material", rf"\bmit\s+(?:Material|Informationen)\s+(?:von|der|des)\s+{AG}"),
    ("source", rf"\b(?:Quelle|Quellen|Source|Sources|Fuente|Fonte|Источник|المصدر)\s*:\s*{AG}"),
    # es: "según informó EFE", "dijo a EFE", "con información de EFE"
    ("es according", rf"\bsegún\s+(?:\w+\s+){{0,2}}?(?:(?:a\s+)?la\s+agencia\s+(?:\w+\s+)?)?{AG}"),
    ("es told", rf"\b{_VERB_ES}\s+(?:a\s+)?(?:la\s+agencia\s+(?:\w+\s+)?)?{AG}"),
    ("es with", rf"\bcon\s+informaci[oó]n(?:es)?\s+de\s+(?:la\s+agencia\s+)?{AG}"),
    # it: "ha detto all'ANSA", "secondo l'ANSA", "riferisce l'agenzia Ansa"
    ("it to", rf"\b(?:(?:ha|hanno)\s+{_VERB_IT}\s+)?all['’]\s*(?:agenzia\s+)?{AG}"),
    ("it told", rf"\b{_VERB_IT}\s+(?:a|ad)\s+{AG}"),
    ("it according", rf"\b(?:secondo|riferisce|riporta|apprende|scrive)\s+(?:l['’]\s*|la\s+|il\s+)?"
                     rf"(?:agenzia\s+(?:di\s+stampa\s+)?(?:\w+\s+)?)?{AG}"),
    # pt: "segundo a Lusa", "disse à agência Lusa", "com informações da Reuters"
    ("pt according", rf"\b(?:segundo|conforme|de\s+acordo\s+com)\s+(?:a\s+|o\s+)?(?:agência\s+(?:\w+\s+)?)?{AG}"),
    ("pt told", rf"\b{_VERB_PT}\s+(?:à|a|ao)\s+(?:agência\s+(?:\w+\s+)?)?{AG}"),
    ("pt with", rf"\bcom\s+informações\s+d[aeo]s?\s+(?:agência\s+)?{AG}"),
    # ru: "сообщает ТАСС", "передает РИА Новости", "сообщило агентство Интерфакс"
    ("ru reported", rf"(?<!\w){_VERB_RU}\s+(?:агентств[оуа]\s+)?{AG}"),
    ("ru according", rf"(?<!\w)по\s+(?:данным|информации|сообщению)\s+(?:агентства\s+)?{AG}"),
    ("ru agency", rf"(?<!\w)агентств\w*\s+{AG}"),
    ("ru reported", rf"(?<!\w){AG}\s+{_VERB_RU}"),
    # ar: "لوكالة فرانس برس" (to AFP), "وكالة الأنباء الألمانية", "لرويترز", "ذكرت رويترز"
    ("ar agency", rf"(?<!\w)\w{{0,2}}وكالة\s+{AG}"),
    ("ar to", rf"(?<!\w)لـ?{AG}"),
    ("ar reported", rf"(?<!\w){_VERB_AR}\s*{AG}"),
]]

# A block that is nothing but an agency credit: "(dpa/jar)", "(afp)", "AFP/Reuters", "Mit Material
# von dpa", "avec AFP", "con información de EFE", "© AFP 2024", "Quelle: dpa", "(أ ف ب)".
_LEAD = (r"mit\s+material\s+(?:von|der|des)|mit\s+informationen\s+(?:von|der)|quelle|quellen|source|sources|"
         r"fuente|fonte|источник|المصدر|avec|with|mit|con\s+informaci[oó]n(?:es)?\s+de|com\s+informações\s+d[aeo]s?|"
         r"additional\s+reporting\s+by|©|\(c\)|copyright")
_ARTICLE = r"(?:la\s+agencia\s+|l['’]\s*|der\s+|dem\s+|die\s+|agência\s+|agenzia\s+|агентство\s+|وكالة\s+)?"
_AG_PLAIN = rf"(?:{AGENCY_ALT})(?!\w)"
#: what every credit convention's agency group matches, in any case: text without it holds no credit
ANY_AGENCY = re.compile(_AG_PLAIN, re.IGNORECASE)
# the same, lower-cased, for lower-cased text (`names.lower_as_ignorecase`): the names hold no regex
# escape a lower-casing would change ("Ajansı" is an optional ending), so it finds a name exactly
# where ANY_AGENCY does, ~3x faster
_ANY_AGENCY_LOWER = re.compile(_AG_PLAIN.lower())


def mentions_agency(text: str) -> bool:
    """Whether `text` holds something `ANY_AGENCY` matches (most blocks of an article do not)."""
    if lower_as_ignorecase(text):
        return _ANY_AGENCY_LOWER.search(text.lower()) is not None
    return ANY_AGENCY.search(text) is not None


_AND = r"(?:[/,;]|\bund\b|\bet\b|\by\b|\be\b|\band\b|\bи\b|و)"
_AGLIST = rf"{_ARTICLE}{_AG_PLAIN}(?:\s*{_AND}\s*(?:{_AG_PLAIN}|[\w.]{{1,8}}))*"
CREDIT_LINE = re.compile(rf"^\(?\s*(?:(?:{_LEAD})\s*:?\s*)?{_AGLIST}\s*(?:\d{{4}})?\s*[.)]*$", _I)


def credit_line(s: str) -> bool:
    """True when a stripped block is nothing but an agency credit ("(dpa/jar)", "avec AFP")."""
    return len(s) <= 120 and bool(CREDIT_LINE.match(s))


# The agency at the end of a byline or signature line: "Von Anna Müller, dpa", "Par Jean Dupont (AFP)".
SIGNATURE_END = re.compile(rf"(?:^|[\s,/(]){AG_ANY_CASE}(?:\s*/\s*[\w.]{{1,12}})*\)?\s*$")


# --- page furniture -----------------------------------------------------------------------------

# "Read also" links (the linked headline may follow on the same line).
_READ_ALSO = (r"lesen sie auch|lesen sie mehr|lesen sie hier|auch interessant|lire aussi|à lire aussi|a lire aussi|"
              r"lire également|à lire également|voir aussi|à voir aussi|leer también|lea también|lee también|"
              r"te puede interesar|le puede interesar|ver también|leggi anche|leggi pure|potrebbe interessarti|"
              r"vedi anche|leia também|leia mais|veja também|saiba mais|читайте также|читайте ещё|читайте еще|"
              r"смотрите также|اقرأ أيضا|اقرأ أيضاً|إقرأ أيضا|إقرأ أيضاً|اقرأ ايضا|اقرأ المزيد|شاهد أيضا|طالع أيضا")
# Short labels that only link when they stand alone or end in a colon/arrow ("Mehr zum Thema:").
_READ_LABEL = (r"mehr zum thema|mehr dazu|zum thema|weiterlesen|más información|approfondisci|подробнее|по теме")
# Calls to action addressed to the reader, and the channels they point to.
_CTA = (r"follow us|join us|join our|subscribe|download|sign up|get the app|folgen sie|folge uns|folgt uns|"
        r"abonnieren sie|laden sie|holen sie sich|jetzt\b.{0,40}\b(?:abonnieren|folgen|herunterladen|installieren)|"
        r"anmelden|melden sie sich|registrieren sie sich|suivez|rejoignez|abonnez-vous|inscrivez-vous|recevez|"
        r"recibe|ricevi|receba|получайте|سجل|téléchargez|retrouvez-nous|síguenos|siguenos|únete|suscríbete|descarga|"
        r"seguici|iscriviti|unisciti|scarica|siga-nos|siga\s+o|sigam|inscreva-se|assine|baixe|"
        r"подписывайтесь|подпишитесь|следите\s+за|присоединяйтесь|скачайте|تابعونا|تابعوا|اشترك|اشتركوا|"
        r"انضم|انضموا|حمل|حمّل|نزّل")
_SOCIAL = (r"whatsapp|telegram|facebook|instagram|twitter|x\.com|tiktok|youtube|linkedin|threads|bluesky|"
           r"mastodon|google news|snapchat|viber|kanal|канал\w*|телеграм\w*|вконтакте|дзен|تلغرام|تيليغرام|"
           r"تلجرام|واتساب|واتس\s*آب|فيسبوك|تويتر|إنستغرام|يوتيوب")
_APP = r"app|apps|appli|application|applicazione|aplicación|aplicativo|приложени\w*|تطبيق\w*|app store|play store"
_NEWSLETTER = r"newsletter\w*|boletín|boletim|rundbrief|рассылк\w*|النشرة\s+(?:البريدية|الإخبارية)"
_COOKIE = r"cookies?|куки|ملفات\s+تعريف\s+الارتباط"
_CONSENT = (r"use|uses|verwenden|nutzen|utilise|utilisons|utilizamos|usamos|utilizziamo|usiamo|используем|"
            r"نستخدم|accept|akzeptier|zustimm|einwillig|consent|accepte|acepta|accetta|aceita|согла|"
            r"datenschutz|privacy|confidentialité|privacidad|privacidade|конфиденциальн|الخصوصية")
_CONSENT_BUTTON = (r"accept all|alle akzeptieren|tout accepter|aceptar todo|aceptar todas|accetta tutti|"
                   r"aceitar todos|aceitar tudo|принять все|قبول الكل|akzeptieren|zustimmen")


def _has(words: str) -> re.Pattern:
    return re.compile(rf"(?<!\w)(?:{words})(?!\w)", _I)


_CTA_RE, _SOCIAL_RE, _APP_RE = _has(_CTA), _has(_SOCIAL), _has(_APP)
_NEWSLETTER_RE, _COOKIE_RE, _CONSENT_RE = _has(_NEWSLETTER), _has(_COOKIE), re.compile(_CONSENT, _I)
_READ_ALSO_RE = re.compile(rf"^[►▶>»•*\s]*(?:{_READ_ALSO})(?!\w).{{0,200}}$", _I | re.DOTALL)
_READ_LABEL_RE = re.compile(rf"^[►▶>»•*\s]*(?:{_READ_LABEL})\s*(?:[:>»›→|]|-\s|$).{{0,200}}$", _I | re.DOTALL)
_CONSENT_BUTTON_RE = re.compile(rf"^(?:{_CONSENT_BUTTON})$", _I)
_BYLINE = re.compile(r"^(?:(?:autor|autora|autore|auteur|автор|текст|بقلم|كتب|كتبت)\s*:?\s*\S.{0,60}"
                     r"|(?-i:Di\s+[A-ZÀ-Ý][\w'’-]+(?:\s+[A-ZÀ-Ý][\w'’-]+){1,3}(?:\s*[,/(]\s*\w+\)?)?))$", _I)


# Copyright notices: "© 2020 Lusa - Agência de Notícias de Portugal, S.A.", "Copyright 2024 The Associated
# Press. All rights reserved.", "RIPRODUZIONE RISERVATA", "Alle Rechte vorbehalten": a short block that
# opens with the sign (or "Copyright" and a year before a capitalised name), or is a rights formula
# with at most a few words beside it. A story's sentence about copyright law, or one that quotes
# "all rights reserved", is none; nor is "© Agency/Photographer", a picture's credit.
_RIGHTS = (r"all rights reserved|tous droits réservés|alle rechte vorbehalten|todos los derechos reservados|"
           r"todos os direitos reservados|riproduzione riservata|tutti i diritti riservati|все права защищены|"
           r"جميع الحقوق محفوظة")
_COPYRIGHT_OPENS = re.compile(r"^\W{0,3}(?:©|\(c\)\s{0,3}\d{4}|copyright\s{0,3}(?:©|\(c\)|\d{4}\s{1,3}(?-i:[A-ZÀ-Þ])))",
                              _I)
_RIGHTS_RE = re.compile(rf"(?:{_RIGHTS})", _I)


def copyright_notice(s: str) -> bool:
    """Whether a stripped block of at most 200 characters is a copyright notice (see `_RIGHTS`)."""
    if len(s) > 200 or re.search(r"[^\W\d_]\s{0,2}/\s{0,2}[^\W\d_]", s):  # "© Kay Nietfeld/dpa": a picture's
        return False
    if _COPYRIGHT_OPENS.match(s):
        return True
    m = _RIGHTS_RE.search(s)
    return m is not None and len((s[:m.start()] + " " + s[m.end():]).split()) <= 6


def furniture_reason(s: str) -> str | None:
    """The furniture reason of one stripped block under the multilingual rules, or None.

    Promos and notices are recognised by what they do, in any of the covered languages: a call to
    action addressed to the reader plus a channel (WhatsApp, Telegram, an app, a newsletter), a
    cookie notice, a "read also" link, a byline. (`credit_line` is checked apart, and first.)
    """
    if len(s) > 300:
        return None
    if _READ_ALSO_RE.match(s) or _READ_LABEL_RE.match(s):
        return "read-more link"
    if _CONSENT_BUTTON_RE.match(s) or (_COOKIE_RE.search(s) and _CONSENT_RE.search(s)):
        return "cookie notice"
    if _CTA_RE.search(s):
        if _NEWSLETTER_RE.search(s):
            return "newsletter prompt"
        if _SOCIAL_RE.search(s):
            return "social prompt"
        if _APP_RE.search(s):
            return "app prompt"
    if _BYLINE.match(s):
        return "byline"
    return None
