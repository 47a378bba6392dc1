"""Русские тексты ответов."""

from __future__ import annotations

from smsgw.language import Language

# A tuple holds alternatives: the first whose facts are all given is used.
TEXTS: dict[str, str | tuple[str, ...]] = {
    # --- the command was not understood ---
    "parse.empty": "Пустое сообщение. Пример: {example}. Справка: ?",
    "parse.too_long": "Слишком длинное сообщение (до {max_chars} знаков). Пример: {example}",
    "parse.unknown": "Команда не распознана. Пример: {example}. Справка: ?",
    "parse.separator": "Разделяйте части команды звёздочкой *: {example}",
    "parse.pay_format": "Оплата: ЗОНА*НОМЕР*ЧАСЫ, например {example}",
    "parse.extend_format": "Продление: X*ЧАСЫ или X*ЧАСЫ*НОМЕР, например {example}",
    "parse.stop_format": "Остановка: S или S*НОМЕР, например {example}",
    "parse.bad_zone": "Номер зоны пишется только цифрами. Пример: {example}",
    "parse.bad_hours": "Часы: целое число от 1 до {max_hours}. Пример: {example}",
    "parse.bad_language": "Языки: RU, KK, EN. Пример: {example}",
    "parse.plate_letter": "Знака «{letter}» не бывает в госномерах. Пример: {example}",
    "parse.bad_plate": "Номер {plate} не распознан. Пример: {example}",
    # --- paying ---
    "pay.confirm_request": (
        "Оплата {zone} {plate} на {hours} ч: {amount}. Ответьте 1 (да) или 0 (нет)"
    ),
    "pay.charge_requested": "Подтвердите списание {amount}: ответьте 1 на SMS от {operator_number}",
    "charge.request": "Парковка: зона {zone}, {plate}, {hours} ч. Списать {amount}?",
    "topup.confirm_request": "Пополнить парковочный счёт на {amount}? Ответьте 1 (да) или 0 (нет)",
    "charge.top_up_request": "Пополнение парковочного счёта. Списать {amount}?",
    "topup.done": "Парковочный счёт пополнен на {amount}. Парковочный счёт {balance}",
    "topup.declined": "Пополнение на {amount} отклонено. Счёт не изменился",
    "topup.failed": "Оператор не списал {amount} для пополнения. Попробуйте позже",
    "topup.expired": "Пополнение на {amount} не подтверждено вовремя на {operator_number}",
    "topup.unavailable": "Пополнение парковочного счёта с телефона недоступно для {operator}",
    "status.pending_top_up": (
        "Пополнение на {amount} ждёт вашего подтверждения на {operator_number}."
        " Парковочный счёт {balance}"
    ),
    "pay.started": (
        "Парковка {zone} {plate} до {end}. Оплачено {amount}. Парковочный счёт {balance}"
    ),
    "pay.started_min_charge": (
        "Парковка {zone} {plate} до {end}, {amount}. Списан минимальный платёж {charged}."
        " Парковочный счёт {balance}"
    ),
    "pay.moved": (
        "{plate} перенесён из зоны {old_zone}, возврат {refund}. Парковка {zone} до {end},"
        " оплачено {amount}. Парковочный счёт {balance}"
    ),
    "pay.free_now": "В зоне {zone} сейчас бесплатно до {until}. Платить не нужно",
    "pay.already_active": "{zone} {plate} уже оплачен до {end}. Продлить: {example}",
    "pay.already_paid": "{zone} {plate} уже оплачен до {end}. Платить не нужно",
    "pay.pending_exists": (
        "Платёж {amount} ждёт подтверждения: ответьте 1 на SMS от {operator_number}"
    ),
    "pay.declined": "Платёж {amount} за {zone} {plate} отклонён. Парковка не начата",
    "pay.expired": (
        "{zone} {plate}: платёж {amount} не подтверждён вовремя. Отправьте команду снова"
        " и ответьте 1 на SMS от {operator_number}"
    ),
    "pay.failed": "{zone} {plate}: оператор не списал {amount}. Попробуйте позже",
    "pay.insufficient_funds": (
        (
            "{zone} {plate}: на телефоне мало денег для {amount} (должно остаться"
            " {must_remain}). Пополните телефон и отправьте команду снова"
        ),
        (
            "{zone} {plate}: на телефоне мало денег для {amount}. Пополните телефон и"
            " отправьте команду снова"
        ),
    ),
    "pay.operator_limit": ("{zone} {plate}: {amount} сверх лимита оператора. Оплатите позже"),
    "pay.barred": "{zone} {plate}: оператор запретил платёж {amount} с номера",
    "pay.credited_late": (
        "Платёж {amount} пришёл поздно, парковка не начата. Парковочный счёт {balance}"
    ),
    "pay.credited_plate_busy": (
        "{plate} уже оплачен. {amount} на парковочном счёте, там {balance}"
    ),
    "extend.credited_ended": (
        "Парковка {plate} закончилась. {amount} на парковочном счёте, там {balance}"
    ),
    # --- extending and stopping ---
    "extend.done": (
        "Парковка {zone} {plate} продлена до {end}. Оплачено {amount}. Парковочный счёт {balance}"
    ),
    "extend.done_min_charge": (
        "Парковка {zone} {plate} продлена до {end}, {amount}. Списан минимальный платёж"
        " {charged}. Парковочный счёт {balance}"
    ),
    "extend.no_session": "Нет парковки для продления. Оплатите заново: ЗОНА*НОМЕР*ЧАСЫ",
    "extend.ambiguous": "У вас несколько парковок: {plates}. Укажите номер: {example}",
    "extend.too_long": (
        "Столько продлить нельзя: в зоне не больше {max_hours} ч. Можно: {example}",
        "Столько продлить нельзя: в зоне не больше {max_hours} ч",
    ),
    "stop.no_session": "Нет активной парковки, останавливать нечего",
    "stop.ambiguous": "У вас несколько парковок: {plates}. Укажите номер: {example}",
    "stop.done": (
        "Парковка {zone} {plate} остановлена в {end}. Возврат {refund}. Парковочный счёт {balance}"
    ),
    # --- status and session events ---
    "status.sessions": "Парковки: {sessions}. Парковочный счёт {balance}",
    "status.none": "Активных парковок нет. Парковочный счёт {balance}",
    "status.pending": (
        "Платёж {zone} {plate} {amount} ждёт вашего подтверждения на {operator_number}."
        " Парковочный счёт {balance}"
    ),
    "session.reminder": "Парковка {zone} {plate} закончится в {end}. Продлить: {example}",
    "session.moved_away": (
        "Парковка {zone} {plate} остановлена в {end}: номер оплачен в другой зоне."
        " Возврат {refund}. Парковочный счёт {balance}"
    ),
    "session.ended": "Парковка {zone} {plate} закончилась в {end}",
    # --- operator limits ---
    "limit.min": "Платёж {amount} меньше минимального у {operator}: {limit}",
    "limit.max_per_payment": "Платёж {amount} больше разового лимита {operator}: {limit}",
    "limit.per_day_amount": "Платёж {amount} превысит дневной лимит {operator}: {limit}",
    "limit.per_day_count": "Платёж {amount} отклонён: у {operator} до {limit} платежей в день",
    "limit.per_month_amount": "Платёж {amount} превысит месячный лимит {operator}: {limit}",
    "limit.per_month_count": "Платёж {amount} отклонён: у {operator} до {limit} платежей в месяц",
    "limit.must_remain": "{operator}: после платежа {amount} на телефоне должно остаться {limit}",
    "operator.unsupported": (
        "Оплата по SMS для {operator} недоступна. Оплатите в приложении или на сайте"
        " парковок города или в паркомате"
    ),
    "operator.other_currency": (
        "Зона {zone} в городе {city}: с номера {operator} её оплатить нельзя."
        " Оплатите в приложении или на сайте парковок города"
    ),
    # --- everything else ---
    "zone.unknown": "Зоны {zone} нет. Номер зоны на знаке, например: {example}",
    "hours.too_many": "В этой зоне не больше {max_hours} ч. Например: {example}",
    "language.set": "Язык ответов: {language}",
    "help.text": (
        "SMS на {short_number}: оплата ЗОНА*НОМЕР*ЧАСЫ (1001*A123BC77*2),"
        " продлить X*ЧАСЫ, стоп S, статус I, язык LANG*EN",
        "Оплата: ЗОНА*НОМЕР*ЧАСЫ (1001*A123BC77*2), продлить X*ЧАСЫ, стоп S,"
        " статус I, язык LANG*EN",
    ),
    "confirm.answer_operator": "Платёж {amount}: ответьте 1 или 0 на SMS от {operator_number}",
    "confirm.nothing_pending": "Нет платежа, который ждёт подтверждения",
    "confirm.in_progress": "Платёж {amount} уже обрабатывается. Дождитесь SMS",
    "error.temporary": "Не удалось обработать сообщение. Отправьте его ещё раз позже",
    "mo.incomplete": "Ваше сообщение пришло не полностью. Отправьте его ещё раз",
    # --- the driver API (docs/driver-api.md) ---
    "driver.code": "Код smsgw {code}. Никому его не сообщайте",
}

SESSION_LINE = "{zone} {plate} до {end}"
LIST_SEPARATOR = "; "

LANGUAGE_NAMES: dict[Language, str] = {
    Language.RU: "русский",
    Language.KK: "казахский",
    Language.EN: "английский",
}
