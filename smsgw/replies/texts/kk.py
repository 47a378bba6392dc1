"""Жауаптардың қазақша мәтіндері."""

from __future__ import annotations

from smsgw.language import Language

# A tuple holds alternatives: the first whose facts are all given is used. Times are
# written after a colon ("аяқталуы: 18:30") so no case ending has to follow a number.
TEXTS: dict[str, str | tuple[str, ...]] = {
    # --- the command was not understood ---
    "parse.empty": "Хабарлама бос. Мысалы: {example}. Анықтама: ?",
    "parse.too_long": "Хабарлама тым ұзын (ең көбі {max_chars} таңба). Мысалы: {example}",
    "parse.unknown": "Команда танылмады. Мысалы: {example}. Анықтама: ?",
    "parse.separator": "Команда бөліктерін жұлдызшамен * бөліңіз: {example}",
    "parse.pay_format": "Төлем: АЙМАҚ*НӨМІР*САҒАТ, мысалы {example}",
    "parse.extend_format": "Ұзарту: X*САҒАТ немесе X*САҒАТ*НӨМІР, мысалы {example}",
    "parse.stop_format": "Тоқтату: S немесе S*НӨМІР, мысалы {example}",
    "parse.bad_zone": "Аймақ нөмірі тек цифрмен жазылады. Мысалы: {example}",
    "parse.bad_hours": "Сағат саны бүтін сан болуы керек (1–{max_hours}). Мысалы: {example}",
    "parse.bad_language": "Тілдер: RU, KK, EN. Мысалы: {example}",
    "parse.plate_letter": "Мемлекеттік нөмірде «{letter}» таңбасы болмайды. Мысалы: {example}",
    "parse.bad_plate": "{plate} нөмірі танылмады. Мысалы: {example}",
    # --- paying ---
    "pay.confirm_request": "Төлем {zone} {plate}, {hours} сағ: {amount}. Растау: 1, бас тарту: 0",
    "pay.charge_requested": (
        "{amount} төлемін растаңыз: {operator_number} SMS-іне 1 деп жауап беріңіз"
    ),
    "charge.request": "Тұрақ: аймақ {zone}, {plate}, {hours} сағ. {amount} төлейсіз бе?",
    "topup.confirm_request": "Тұрақ шотын {amount} толтырасыз ба? Растау: 1, бас тарту: 0",
    "charge.top_up_request": "Тұрақ шотын толтыру. {amount} төлейсіз бе?",
    "topup.done": "Тұрақ шоты {amount} толтырылды. Тұрақ шоты {balance}",
    "topup.declined": "{amount} толтырудан бас тартылды. Шот өзгерген жоқ",
    "topup.failed": "Оператор толтыру үшін {amount} алмады. Кейінірек көріңіз",
    "topup.expired": "{amount} толтыру {operator_number} нөмірінде уақытында расталмады",
    "topup.unavailable": "{operator} абоненттері тұрақ шотын телефоннан толтыра алмайды",
    "status.pending_top_up": (
        "{amount} толтыру {operator_number} нөміріне растауыңызды күтуде. Тұрақ шоты {balance}"
    ),
    "pay.started": (
        "Тұрақ {zone} {plate}, аяқталуы: {end}. Төленді {amount}. Тұрақ шоты {balance}"
    ),
    "pay.started_min_charge": (
        "Тұрақ {zone} {plate}, аяқталуы: {end}, құны {amount}. Ең аз төлем алынды:"
        " {charged}. Тұрақ шоты {balance}"
    ),
    "pay.moved": (
        "{plate} {old_zone} аймағынан ауысты, қайтарылды {refund}. Тұрақ {zone},"
        " аяқталуы: {end}. Төленді {amount}. Тұрақ шоты {balance}"
    ),
    "pay.free_now": "{zone} аймағында тұрақ қазір тегін. Ақылы уақыт басталуы: {until}",
    "pay.already_active": "{zone} {plate} төленген, аяқталуы: {end}. Ұзарту: {example}",
    "pay.already_paid": "{zone} {plate} төленген, аяқталуы: {end}. Төлеудің қажеті жоқ",
    "pay.pending_exists": (
        "{amount} төлемі расталмаған: {operator_number} SMS-іне 1 деп жауап беріңіз"
    ),
    "pay.declined": "{zone} {plate}: {amount} төлемінен бас тартылды. Тұрақ басталмады",
    "pay.expired": (
        "{zone} {plate}: {amount} төлемі уақытында расталмады. Команданы қайта жіберіп,"
        " {operator_number} SMS-іне 1 деп жауап беріңіз"
    ),
    "pay.failed": "{zone} {plate}: оператор {amount} алмады. Кейінірек көріңіз",
    "pay.insufficient_funds": (
        (
            "{zone} {plate}: телефонда {amount} үшін ақша жетпейді (онда {must_remain}"
            " қалуы керек). Телефонды толтырып, команданы қайта жіберіңіз"
        ),
        (
            "{zone} {plate}: телефонда {amount} үшін ақша жетпейді. Телефонды толтырып,"
            " команданы қайта жіберіңіз"
        ),
    ),
    "pay.operator_limit": ("{zone} {plate}: {amount} оператор шегінен асады. Кейінірек төлеңіз"),
    "pay.barred": "{zone} {plate}: оператор бұл нөмірден {amount} төлеуге тыйым салған",
    "pay.credited_late": ("{amount} төлемі кеш келді, тұрақ басталмады. Тұрақ шоты {balance}"),
    "pay.credited_plate_busy": "{plate} төленген. {amount} шотқа түсті. Тұрақ шоты {balance}",
    "extend.credited_ended": (
        "{plate} тұрағы аяқталған. {amount} шотқа түсті. Тұрақ шоты {balance}"
    ),
    # --- extending and stopping ---
    "extend.done": (
        "Тұрақ {zone} {plate} ұзартылды, аяқталуы: {end}. Төленді {amount}. Тұрақ шоты {balance}"
    ),
    "extend.done_min_charge": (
        "Тұрақ {zone} {plate} ұзартылды, аяқталуы: {end}, құны {amount}. Ең аз төлем"
        " алынды: {charged}. Тұрақ шоты {balance}"
    ),
    "extend.no_session": "Ұзартатын тұрақ жоқ. Қайта төлеңіз: АЙМАҚ*НӨМІР*САҒАТ",
    "extend.ambiguous": "Бірнеше тұрақ бар: {plates}. Нөмірді көрсетіңіз: {example}",
    "extend.too_long": (
        "Бұлай ұзартуға болмайды: аймақта ең көбі {max_hours} сағ. Болады: {example}",
        "Бұлай ұзартуға болмайды: аймақта ең көбі {max_hours} сағ",
    ),
    "stop.no_session": "Белсенді тұрақ жоқ, тоқтататын ештеңе жоқ",
    "stop.ambiguous": "Бірнеше тұрақ бар: {plates}. Нөмірді көрсетіңіз: {example}",
    "stop.done": (
        "Тұрақ {zone} {plate} тоқтатылды: {end}. Қайтарылды {refund}. Тұрақ шоты {balance}"
    ),
    # --- status and session events ---
    "status.sessions": "Тұрақтар: {sessions}. Тұрақ шоты {balance}",
    "status.none": "Белсенді тұрақ жоқ. Тұрақ шоты {balance}",
    "status.pending": (
        "{zone} {plate} {amount} төлемі {operator_number} нөміріне растауыңызды күтуде."
        " Тұрақ шоты {balance}"
    ),
    "session.reminder": "Тұрақ {zone} {plate} жақында аяқталады: {end}. Ұзарту: {example}",
    "session.moved_away": (
        "Тұрақ {zone} {plate} тоқтатылды: {end}, нөмір басқа аймақта төленді."
        " Қайтарылды {refund}. Тұрақ шоты {balance}"
    ),
    "session.ended": "Тұрақ {zone} {plate} аяқталды: {end}",
    # --- operator limits ---
    "limit.min": "{amount} төлемі {operator} ең аз шегінен кем: {limit}",
    "limit.max_per_payment": "{amount} төлемі {operator} бір реттік шегінен асады: {limit}",
    "limit.per_day_amount": "{amount} төлемі {operator} күндік шегінен асады: {limit}",
    "limit.per_day_count": "{amount} төлемі өтпейді: {operator} шегі күніне {limit} төлем",
    "limit.per_month_amount": "{amount} төлемі {operator} айлық шегінен асады: {limit}",
    "limit.per_month_count": "{amount} төлемі өтпейді: {operator} шегі айына {limit} төлем",
    "limit.must_remain": "{operator}: {amount} төлемінен кейін телефонда {limit} қалуы керек",
    "operator.unsupported": (
        "{operator} абоненттері SMS арқылы төлей алмайды. Қаланың тұрақ қосымшасында,"
        " сайтында немесе паркоматта төлеңіз"
    ),
    "operator.other_currency": (
        "{zone} аймағы {city} қаласында: оны {operator} нөмірінен төлеу мүмкін емес."
        " Қаланың тұрақ қосымшасында немесе сайтында төлеңіз"
    ),
    # --- everything else ---
    "zone.unknown": "{zone} аймағы жоқ. Аймақ нөмірі белгіде, мысалы: {example}",
    "hours.too_many": "Бұл аймақта ең көбі {max_hours} сағ. Мысалы: {example}",
    "language.set": "Жауап тілі: {language}",
    "help.text": (
        "{short_number} нөміріне SMS: төлем АЙМАҚ*НӨМІР*САҒАТ (1001*A123BC77*2),"
        " ұзарту X*САҒАТ, тоқтату S, күйі I, тіл LANG*KK",
        "Төлем: АЙМАҚ*НӨМІР*САҒАТ (1001*A123BC77*2), ұзарту X*САҒАТ, тоқтату S,"
        " күйі I, тіл LANG*KK",
    ),
    "confirm.answer_operator": (
        "{amount} төлемі: {operator_number} SMS-іне 1 не 0 деп жауап беріңіз"
    ),
    "confirm.nothing_pending": "Растауды күтіп тұрған төлем жоқ",
    "confirm.in_progress": "{amount} төлемі өңделуде. SMS-ті күтіңіз",
    "error.temporary": "Хабарламаны өңдеу мүмкін болмады. Кейінірек қайта жіберіңіз",
    "mo.incomplete": "Хабарламаңыз толық жетпеді. Оны қайта жіберіңіз",
    # --- the driver API (docs/driver-api.md) ---
    "driver.code": "smsgw коды {code}. Оны ешкімге айтпаңыз",
}

SESSION_LINE = "{zone} {plate}, аяқталуы: {end}"
LIST_SEPARATOR = "; "

LANGUAGE_NAMES: dict[Language, str] = {
    Language.RU: "орыс тілі",
    Language.KK: "қазақ тілі",
    Language.EN: "ағылшын тілі",
}
