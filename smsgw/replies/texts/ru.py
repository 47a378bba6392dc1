"""Русские тексты ответов."""

from __future__ import annotations

from smsgw.domain.language import Language

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
    "pay.started": "Парковка {zone} {plate} до {end}. Оплачено {amount}. Баланс {balance}",
    "pay.started_min_charge": (
        "Парковка {zone} {plate} до {end}, {amount}. Списан минимальный платёж {charged},"
        " остаток на счёте {balance}"
    ),
    "pay.free_now": "В зоне {zone} сейчас бесплатно до {until}. Платить не нужно",
    "pay.already_active": "{plate} уже оплачен до {end}. Продлить: {example}",
    "pay.pending_exists": "Прошлый платёж ещё ждёт подтверждения. Ответьте на запрос",
    "pay.declined": "Платёж {amount} за {zone} {plate} отклонён. Парковка не начата",
    "pay.expired": "Платёж {amount} за {zone} {plate} не подтверждён вовремя",
    "pay.failed": "Не удалось списать {amount} за {zone} {plate}. Парковка не начата",
    "pay.credited_late": "Платёж {amount} пришёл поздно, парковка не начата. Баланс {balance}",
    "pay.credited_plate_busy": "{plate} уже оплачен. {amount} зачислено на счёт. Баланс {balance}",
    "extend.credited_ended": "Парковка {plate} закончилась. {amount} на счёте. Баланс {balance}",
    # --- extending and stopping ---
    "extend.done": "{plate} продлено до {end}. Оплачено {amount}. Баланс {balance}",
    "extend.done_min_charge": (
        "{plate} продлено до {end}, {amount}. Списан минимальный платёж {charged},"
        " остаток на счёте {balance}"
    ),
    "extend.no_session": "Нет парковки для продления. Оплатите заново: ЗОНА*НОМЕР*ЧАСЫ",
    "extend.ambiguous": "У вас несколько парковок: {plates}. Укажите номер: {example}",
    "extend.too_long": "Столько продлить нельзя: в зоне не больше {max_hours} ч",
    "stop.no_session": "Нет активной парковки, останавливать нечего",
    "stop.ambiguous": "У вас несколько парковок: {plates}. Укажите номер: {example}",
    "stop.done": "Парковка {plate} остановлена. Возврат {refund}. Баланс {balance}",
    # --- status and session events ---
    "status.sessions": "Парковки: {sessions}. Баланс {balance}",
    "status.none": "Активных парковок нет. Баланс {balance}",
    "session.reminder": "Парковка {zone} {plate} закончится в {end}. Продлить: {example}",
    "session.ended": "Парковка {zone} {plate} закончилась в {end}",
    # --- operator limits ---
    "limit.min": "Платёж {amount} меньше минимального у {operator}: {limit}",
    "limit.max_per_payment": "Платёж {amount} больше разового лимита {operator}: {limit}",
    "limit.per_day_amount": "Платёж {amount} превысит дневной лимит {operator}: {limit}",
    "limit.per_day_count": "Платёж {amount} отклонён: у {operator} до {limit} платежей в день",
    "limit.per_month_amount": "Платёж {amount} превысит месячный лимит {operator}: {limit}",
    "limit.per_month_count": "Платёж {amount} отклонён: у {operator} до {limit} платежей в месяц",
    "limit.must_remain": "{operator}: после платежа {amount} на телефоне должно остаться {limit}",
    "operator.unsupported": "Оплата по SMS для {operator} недоступна. Оплатите иначе",
    # --- everything else ---
    "zone.unknown": "Зона {zone} не найдена. Проверьте номер зоны на знаке",
    "hours.too_many": "В этой зоне можно оплатить не больше {max_hours} ч",
    "language.set": "Язык ответов: {language}",
    "help.text": (
        "SMS на {short_number}: оплата ЗОНА*НОМЕР*ЧАСЫ (1001*A123BC77*2),"
        " продлить X*ЧАСЫ, стоп S, статус I, язык LANG*EN",
        "Оплата: ЗОНА*НОМЕР*ЧАСЫ (1001*A123BC77*2), продлить X*ЧАСЫ, стоп S,"
        " статус I, язык LANG*EN",
    ),
    "confirm.nothing_pending": "Нет платежа, который ждёт подтверждения",
    "confirm.in_progress": "Платёж {amount} уже обрабатывается. Дождитесь SMS",
    "error.temporary": "Не удалось обработать сообщение. Отправьте его ещё раз позже",
    "mo.incomplete": "Ваше сообщение пришло не полностью. Отправьте его ещё раз",
}

SESSION_LINE = "{plate} {zone} до {end}"
LIST_SEPARATOR = "; "

LANGUAGE_NAMES: dict[Language, str] = {
    Language.RU: "русский",
    Language.KK: "казахский",
    Language.EN: "английский",
}
