"""A stateful stand-in for the parts of the Paddle Billing API (version 1) that Cancelflow's
Paddle adapter uses, with Paddle's own shapes: entities as in Paddle's API reference and SDK test
fixtures, `{"data", "meta": {"request_id"}}` envelopes, `meta.pagination` on lists and
`{"error": {"type", "code", "detail", "documentation_url", "errors"?}, "meta"}` errors.
Standard library only.

Usage: python3 paddle_standin.py PORT --key KEY

Listens on 127.0.0.1:PORT and prints exactly "ready" on stdout once it is listening.
Authentication is Paddle's: no Authorization header answers 403 `authentication_missing`, one that
is not `Bearer …` 403 `authentication_malformed`, a bearer token other than KEY 403
`invalid_token` (Paddle answers these with 403, not 401).

Paddle API (JSON bodies; list filters take comma-separated values):
  GET   /customers/{id}         GET /customers?email=a,b (exact, case-insensitive)&id=&status=
  GET   /subscriptions/{id}     GET /subscriptions?customer_id=&status=&id=&price_id=
                                    &scheduled_change_action=
  POST  /subscriptions/{id}/cancel  {"effective_from": "next_billing_period" | "immediately"}
  POST  /subscriptions/{id}/pause   {"effective_from", "resume_at": RFC 3339 | null, "on_resume"}
  PATCH /subscriptions/{id}     {"discount": {"id", "effective_from"} | null,
                                 "scheduled_change": null, "proration_billing_mode", "custom_data",
                                 "items": [{"price_id", "quantity"}] (replaces them; a price must
                                 be one a seeded subscription bills), "next_billed_at" (future);
                                 items and next_billed_at need proration_billing_mode}
  POST  /discounts              GET /discounts?code=&id=&status=   GET /discounts/{id}
  Lists page with per_page (default 50, at most 200) and after=<id>, in id order (order_by
  id[ASC], the default, or id[DESC]; created_at orders the same way).
Rules applied (Paddle's documented error codes; all 400 unless said):
  - unknown ids: 404 not_found "Entity … not found"; an unknown field, a bad enum value or a bad
    datetime: invalid_field with an `errors` list; a body that is not JSON: invalid_json.
  - cancel or pause a canceled subscription: subscription_is_canceled_action_invalid; PATCH one:
    subscription_update_when_canceled; cancel or pause while a scheduled change is pending:
    subscription_locked_pending_changes (remove it first with PATCH {"scheduled_change": null});
    pause a subscription that is not active: subscription_not_active; PATCH scheduled_change to
    anything but null: subscription_scheduled_change_invalid_update; a discount restricted to
    other products or prices: subscription_discount_not_valid_for_items; a duplicate discount
    code: 409 discount_code_conflict.
  - cancel, next_billing_period (the default for active and trialing subscriptions):
    scheduled_change {cancel, effective_at: current_billing_period.ends_at, resume_at: null},
    next_billed_at null. immediately (the default otherwise): status canceled, canceled_at,
    current_billing_period, next_billed_at and scheduled_change null.
  - pause, next_billing_period: scheduled_change {pause, effective_at, resume_at}; immediately:
    status paused, paused_at, next_billed_at null, scheduled_change {resume, effective_at:
    resume_at, resume_at: null} when resume_at is given (the billing period is kept).
  - discount: subscription.discount {id, type: recurring | one-off, starts_at (now, or the end of
    the billing period for next_billing_period), ends_at (starts_at plus maximum_recurring_
    intervals billing periods, one for a one-off discount, null if it recurs forever)}; the
    discount's times_used goes up by one.
Seeding and control (not Paddle's API; no auth; answers use the same envelope):
  POST /_test/customers      {"name", "email"} -> a ctm_… customer (409 customer_already_exists
                             for a known email)
  POST /_test/subscriptions  {"customer_id", "status": "active", "plan_name", "amount": "1500",
                             "currency": "USD", "interval": "month" | "year" | "week" | "day",
                             "period_ends_at"?: RFC 3339} -> a sub_… with one item (price and
                             product; the same plan_name/amount/currency/interval reuses them)
  GET  /_test/calls          every API request so far, in order: {method, path, query (raw
                             string), authorization (raw header), body (raw text or null)}
  POST /_test/faults         {"method"?, "path_prefix"?, "responses": [...]}: each response is
                             used by one matching request, in order: {"status": 429|500|401|…,
                             "body"?: text, "retry_after"?: seconds} answers that status with a
                             Paddle error (429 too_many_requests, 500 internal_error, 401
                             authentication_malformed, 403 invalid_token, 404 not_found, …) or
                             the text verbatim; {"delay": seconds} sleeps, then processes
                             normally; {"malformed": true} answers 200 `{"id": ` and changes
                             nothing.
  POST /_test/reset          forgets every entity, call and fault.

What this stand-in does not cover (compared with the real Paddle API):
  - Everything else in the API: transactions, prices and products endpoints, addresses,
    businesses, resume, activate, one-time charges, previews, item changes and proration
    (proration_billing_mode is validated, nothing is billed), customer portal sessions,
    discount updates/archiving and discount groups, webhooks (no events are sent).
  - Time never passes: scheduled changes never take effect, discounts never run out, nothing
    renews; no 30-minute renewal lock, no past_due rules, no usage_limit or expires_at
    enforcement; management_urls are static links.
  - next_transaction and recurring_transaction_details are always null; the `include` query
    parameter is ignored, as are unknown query parameters; Paddle-Version and X-Transaction-ID
    are not checked; rate limits only happen through faults, and a 429 only carries Retry-After
    when the fault sets retry_after (Paddle always sends it).
  - Where Paddle's documentation does not say which error a case gets (cancel with
    next_billing_period on a paused subscription: subscription_not_active here; an unknown
    discount id in PATCH: 404 not_found here; an unknown route: 404 invalid_url), the choice here
    is a guess.
"""

import argparse
import calendar
import json
import random
import re
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from standin_faults import parse_faults, take_fault

# Paddle ids are a prefix plus a lowercase ULID (Crockford base32, time first).
ULID_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'
SUBSCRIPTION_STATUSES = ('active', 'canceled', 'past_due', 'paused', 'trialing')
EFFECTIVE_FROM = ('next_billing_period', 'immediately')
ON_RESUME = ('continue_existing_billing_period', 'start_new_billing_period')
PRORATION_MODES = ('prorated_immediately', 'prorated_next_billing_period', 'full_immediately',
                   'full_next_billing_period', 'do_not_bill')
DISCOUNT_TYPES = ('flat', 'flat_per_seat', 'percentage')
INTERVALS = ('day', 'week', 'month', 'year')
DISCOUNT_ID = re.compile(r'dsc_[a-z\d]{26}')
DISCOUNT_CODE = re.compile(r'[A-Za-z0-9]{1,32}')

# Paddle's error for a status a fault asks for: (type, code, detail).
FAULT_ERRORS = {
    400: ('request_error', 'bad_request', 'Invalid request.'),
    401: ('request_error', 'authentication_malformed',
          'Authentication header included, but incorrectly formatted.'),
    403: ('request_error', 'invalid_token', 'Invalid or revoked API key.'),
    404: ('request_error', 'not_found', 'Entity not found.'),
    409: ('request_error', 'conflict', 'Request conflicts with another change.'),
    429: ('api_error', 'too_many_requests', 'IP address exceeded the allowed rate limit. Retry '
          'after the number of seconds in the Retry-After header.'),
    500: ('api_error', 'internal_error',
          'Problem processing your request. The Paddle team has been notified.'),
    502: ('api_error', 'bad_gateway', 'Bad gateway.'),
    503: ('api_error', 'service_unavailable', 'Service unavailable.'),
}


class ApiError(Exception):
    """An error answer in Paddle's shape; `errors` lists field problems for invalid_field."""

    def __init__(self, status, code, detail, type_='request_error', errors=None):
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail
        self.type, self.errors = type_, errors

    def body(self):
        # Paddle files its error pages by the entity a code belongs to.
        section = next((plural for prefix, plural in (('subscription_', 'subscriptions'),
                                                      ('discount_', 'discounts'),
                                                      ('customer_', 'customers'))
                        if self.code.startswith(prefix)), 'shared')
        error = {'type': self.type, 'code': self.code, 'detail': self.detail,
                 'documentation_url': f'https://developer.paddle.com/errors/{section}/{self.code}'}
        if self.errors:
            error['errors'] = self.errors
        return {'error': error, 'meta': {'request_id': str(uuid.uuid4())}}


def not_found(entity_id):
    return ApiError(404, 'not_found', f'Entity {entity_id} not found')


class State:
    """Everything the stand-in remembers; one lock serialises all reads and writes."""
    lock = threading.Lock()
    key = None
    customers = {}       # id -> entity, in creation order (so also id order)
    subscriptions = {}
    discounts = {}
    catalog = {}         # (plan_name, amount, currency, interval) -> (price, product)
    calls = []
    faults = []          # [{"method", "path_prefix", "response"}]


# --- Values ---------------------------------------------------------------------------------

def new_id(prefix):
    millis = int(time.time() * 1000)
    stamp = ''.join(ULID_ALPHABET[(millis >> shift) & 31] for shift in range(45, -5, -5))
    return prefix + stamp + ''.join(random.choice(ULID_ALPHABET) for _ in range(16))


def now():
    return datetime.now(timezone.utc)


def rfc3339(moment):
    return moment.astimezone(timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')


def parse_rfc3339(value):
    """An aware datetime, or ValueError: Paddle wants an offset or Z, not a local time."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    if moment is None or moment.tzinfo is None:
        raise ValueError(value)
    return moment


def add_interval(moment, interval, count=1):
    if interval in ('day', 'week'):
        return moment + timedelta(days=count * (7 if interval == 'week' else 1))
    months = moment.month - 1 + count * (12 if interval == 'year' else 1)
    year, month = moment.year + months // 12, months % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def is_decimal(value, low, high):
    try:
        return low <= float(value) <= high and re.fullmatch(r'\d+(\.\d{1,2})?', value)
    except (TypeError, ValueError):
        return False


# --- Request validation ---------------------------------------------------------------------

class Fields:
    """Collects every problem with a request body, so one answer lists them all, as Paddle's
    invalid_field does."""

    def __init__(self, body, allowed):
        if not isinstance(body, dict):
            raise ApiError(400, 'bad_request', 'Invalid request.')
        self.body = body
        self.errors = [{'field': name, 'message': 'unknown field'}
                       for name in body if name not in allowed]

    def problem(self, field, message):
        self.errors.append({'field': field, 'message': message})

    def enum(self, name, values, required=False):
        value = self.body.get(name)
        if value is None and not required:
            return None
        if value not in values:
            self.problem(name, 'must be one of ' + ', '.join(values))
        return value

    def typed(self, name, kind, required=False):
        value = self.body.get(name)
        if value is None and not required:
            return None
        # bool is an int in Python; Paddle's JSON schema keeps them apart.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.problem(name, f'must be a {kind.__name__}' if value is not None
                         else 'must be provided as part of the request')
            return None   # so later checks on the value can trust its type
        return value

    def moment(self, name):
        value = self.body.get(name)
        if value is None:
            return None
        try:
            return parse_rfc3339(value)
        except ValueError:
            self.problem(name, 'must be a valid RFC 3339 datetime string')
            return None

    def check(self):
        if self.errors:
            raise ApiError(400, 'invalid_field', 'Request does not pass validation.',
                           errors=self.errors)


def list_filter(query, name):
    values = query.get(name)
    return [value for value in values[0].split(',') if value] if values else None


def page(request, entities):
    """Paddle's cursor pagination over entities already in id order."""
    per_page = list_filter(request.query, 'per_page')
    try:
        per_page = min(max(int(per_page[0]), 1), 200) if per_page else 50
    except ValueError:
        raise ApiError(400, 'invalid_field', 'Request does not pass validation.',
                       errors=[{'field': 'per_page', 'message': 'must be an integer'}]) from None
    # Creation order is id order here, so ordering by created_at is ordering by id. The SDK
    # spells the direction in lower case.
    order = (list_filter(request.query, 'order_by') or ['id[ASC]'])[0]
    ordering = re.fullmatch(r'(id|created_at)\[(asc|desc)\]', order, re.IGNORECASE)
    if ordering is None:
        raise ApiError(400, 'invalid_field', 'Request does not pass validation.', errors=[
            {'field': 'order_by', 'message': 'must be id or created_at, [ASC] or [DESC]'}])
    if ordering[2].lower() == 'desc':
        entities = entities[::-1]
    after = list_filter(request.query, 'after')
    if after:
        ids = [entity['id'] for entity in entities]
        entities = entities[ids.index(after[0]) + 1:] if after[0] in ids else []
    shown = entities[:per_page]
    query = {name: values[0] for name, values in request.query.items() if name != 'after'}
    if shown:
        query['after'] = shown[-1]['id']
    host = request.headers.get('Host', '127.0.0.1')
    return {'data': shown, 'meta': {'request_id': str(uuid.uuid4()), 'pagination': {
        'per_page': per_page, 'next': f'http://{host}{request.path}?{urlencode(query)}',
        'has_more': len(entities) > per_page, 'estimated_total': len(entities)}}}


def envelope(entity):
    return {'data': entity, 'meta': {'request_id': str(uuid.uuid4())}}


def find(collection, entity_id):
    if entity_id not in collection:
        raise not_found(entity_id)
    return collection[entity_id]


# --- Customers ------------------------------------------------------------------------------

def get_customer(request, customer_id):
    return 200, envelope(find(State.customers, customer_id))


def list_customers(request):
    emails = list_filter(request.query, 'email')
    ids = list_filter(request.query, 'id')
    statuses = list_filter(request.query, 'status') or ['active']
    found = [customer for customer in State.customers.values()
             if (emails is None or customer['email'].lower() in {e.lower() for e in emails})
             and (ids is None or customer['id'] in ids) and customer['status'] in statuses]
    return 200, page(request, found)


def seed_customer(request):
    fields = Fields(request.json, ('name', 'email'))
    email = fields.typed('email', str, required=True)
    name = fields.typed('name', str)
    fields.check()
    for existing in State.customers.values():
        if existing['email'].lower() == email.lower():
            raise ApiError(409, 'customer_already_exists',
                           f"customer email conflicts with customer of id {existing['id']}")
    stamp = rfc3339(now())
    customer = {'id': new_id('ctm_'), 'status': 'active', 'custom_data': None, 'name': name,
                'email': email, 'marketing_consent': False, 'locale': 'en',
                'created_at': stamp, 'updated_at': stamp, 'import_meta': None}
    State.customers[customer['id']] = customer
    return 201, envelope(customer)


# --- Subscriptions --------------------------------------------------------------------------

def catalog_entry(plan_name, amount, currency, interval):
    """The price and product a seeded plan bills; one per distinct plan."""
    key = (plan_name, amount, currency, interval)
    if key not in State.catalog:
        stamp = rfc3339(now())
        product = {'id': new_id('pro_'), 'name': plan_name, 'type': 'standard',
                   'description': None, 'tax_category': 'standard', 'image_url': None,
                   'custom_data': None, 'status': 'active', 'import_meta': None,
                   'created_at': stamp, 'updated_at': stamp}
        price = {'id': new_id('pri_'), 'product_id': product['id'], 'type': 'standard',
                 'description': f'{plan_name} ({interval}ly)', 'name': plan_name,
                 'tax_mode': 'account_setting',
                 'billing_cycle': {'frequency': 1, 'interval': interval},
                 'trial_period': None,
                 'unit_price': {'amount': amount, 'currency_code': currency},
                 'unit_price_overrides': [], 'custom_data': None, 'status': 'active',
                 'quantity': {'minimum': 1, 'maximum': 1}, 'import_meta': None,
                 'created_at': stamp, 'updated_at': stamp}
        State.catalog[key] = (price, product)
    return State.catalog[key]


def seed_subscription(request):
    fields = Fields(request.json, ('customer_id', 'status', 'plan_name', 'amount', 'currency',
                                   'interval', 'period_ends_at'))
    customer_id = fields.typed('customer_id', str, required=True)
    status = fields.enum('status', SUBSCRIPTION_STATUSES) or 'active'
    plan_name = fields.typed('plan_name', str, required=True)
    amount = fields.typed('amount', str, required=True)
    if amount is not None and not amount.isdigit():
        fields.problem('amount', 'must be a whole number of the lowest currency unit')
    currency = fields.typed('currency', str) or 'USD'
    if not re.fullmatch(r'[A-Z]{3}', currency):
        fields.problem('currency', 'must be a three-letter ISO 4217 code in capitals')
    interval = fields.enum('interval', INTERVALS) or 'month'
    period_ends_at = fields.moment('period_ends_at')
    fields.check()
    customer = find(State.customers, customer_id)
    price, product = catalog_entry(plan_name, amount, currency, interval)
    started = now()
    ends = period_ends_at or add_interval(started, interval)
    starts = add_interval(ends, interval, -1)
    subscription_id = new_id('sub_')
    portal = f'https://sandbox-customer-portal.paddle.com/subscriptions/{subscription_id}'
    subscription = {
        'id': subscription_id, 'status': status, 'customer_id': customer['id'],
        'address_id': new_id('add_'), 'business_id': None, 'currency_code': currency,
        'created_at': rfc3339(started), 'updated_at': rfc3339(started),
        'started_at': rfc3339(starts), 'first_billed_at': rfc3339(starts),
        'next_billed_at': rfc3339(ends), 'paused_at': None, 'canceled_at': None,
        'collection_mode': 'automatic', 'billing_details': None,
        'current_billing_period': {'starts_at': rfc3339(starts), 'ends_at': rfc3339(ends)},
        'billing_cycle': {'frequency': 1, 'interval': interval}, 'scheduled_change': None,
        'items': [{'status': 'active', 'quantity': 1, 'recurring': True,
                   'created_at': rfc3339(started), 'updated_at': rfc3339(started),
                   'previously_billed_at': rfc3339(starts), 'next_billed_at': rfc3339(ends),
                   'trial_dates': None, 'price': price, 'product': product}],
        'custom_data': None,
        'management_urls': {'update_payment_method': portal + '/update-payment-method',
                            'cancel': portal + '/cancel'},
        'discount': None, 'import_meta': None, 'next_transaction': None,
        'recurring_transaction_details': None}
    if status == 'canceled':
        cancel_now(subscription, started)
    elif status == 'paused':
        pause_now(subscription, started)
    State.subscriptions[subscription_id] = subscription
    return 201, envelope(subscription)


def get_subscription(request, subscription_id):
    return 200, envelope(find(State.subscriptions, subscription_id))


def list_subscriptions(request):
    filters = {name: list_filter(request.query, name)
               for name in ('customer_id', 'status', 'id', 'price_id', 'scheduled_change_action')}
    bad = set(filters['status'] or ()) - set(SUBSCRIPTION_STATUSES)
    if bad:
        raise ApiError(400, 'invalid_field', 'Request does not pass validation.', errors=[
            {'field': 'status', 'message': 'must be one of ' + ', '.join(SUBSCRIPTION_STATUSES)}])

    def matches(subscription):
        values = {'customer_id': [subscription['customer_id']],
                  'status': [subscription['status']],
                  'id': [subscription['id']],
                  'price_id': [item['price']['id'] for item in subscription['items']],
                  'scheduled_change_action': [(subscription['scheduled_change'] or {}).get(
                      'action')]}
        return all(wanted is None or set(wanted) & set(values[name])
                   for name, wanted in filters.items())

    return 200, page(request, [s for s in State.subscriptions.values() if matches(s)])


def set_next_billed(subscription, moment):
    subscription['next_billed_at'] = moment
    for item in subscription['items']:
        item['next_billed_at'] = moment


def cancel_now(subscription, moment):
    subscription.update(status='canceled', canceled_at=rfc3339(moment), scheduled_change=None,
                        current_billing_period=None)
    set_next_billed(subscription, None)


def pause_now(subscription, moment):
    subscription.update(status='paused', paused_at=rfc3339(moment))
    set_next_billed(subscription, None)


def changeable(subscription):
    if subscription['status'] == 'canceled':
        raise ApiError(400, 'subscription_is_canceled_action_invalid',
                       "action can't be performed on canceled subscription")
    if subscription['scheduled_change'] is not None:
        raise ApiError(400, 'subscription_locked_pending_changes',
                       'cannot update subscription, pending scheduled changes')


def period_end(subscription):
    period = subscription['current_billing_period']
    if period is None:
        raise ApiError(400, 'subscription_not_active',
                       'action requires the subscription to be active')
    return period['ends_at']


def cancel_subscription(request, subscription_id):
    fields = Fields(request.json, ('effective_from',))
    effective_from = fields.enum('effective_from', EFFECTIVE_FROM)
    fields.check()
    subscription = find(State.subscriptions, subscription_id)
    changeable(subscription)
    in_period = subscription['status'] in ('active', 'trialing')
    if effective_from is None:
        effective_from = 'next_billing_period' if in_period else 'immediately'
    moment = now()
    if effective_from == 'immediately':
        cancel_now(subscription, moment)
    elif not in_period:
        raise ApiError(400, 'subscription_not_active',
                       'action requires the subscription to be active')
    else:
        subscription['scheduled_change'] = {'action': 'cancel',
                                            'effective_at': period_end(subscription),
                                            'resume_at': None}
        set_next_billed(subscription, None)
    subscription['updated_at'] = rfc3339(moment)
    return 200, envelope(subscription)


def pause_subscription(request, subscription_id):
    fields = Fields(request.json, ('effective_from', 'resume_at', 'on_resume'))
    effective_from = fields.enum('effective_from', EFFECTIVE_FROM) or 'next_billing_period'
    resume_at = fields.moment('resume_at')
    fields.enum('on_resume', ON_RESUME)
    fields.check()
    subscription = find(State.subscriptions, subscription_id)
    changeable(subscription)
    if subscription['status'] != 'active':
        raise ApiError(400, 'subscription_not_active',
                       'action requires the subscription to be active')
    moment = now()
    pauses_at = moment if effective_from == 'immediately' else parse_rfc3339(
        period_end(subscription))
    if resume_at is not None and resume_at <= pauses_at:
        fields.problem('resume_at', 'must be later than the time the pause takes effect')
        fields.check()
    resume = rfc3339(resume_at) if resume_at is not None else None
    if effective_from == 'immediately':
        pause_now(subscription, moment)
        subscription['scheduled_change'] = resume and {'action': 'resume', 'effective_at': resume,
                                                       'resume_at': None}
    else:
        subscription['scheduled_change'] = {'action': 'pause', 'effective_at': rfc3339(pauses_at),
                                            'resume_at': resume}
        set_next_billed(subscription, None)
    subscription['updated_at'] = rfc3339(moment)
    return 200, envelope(subscription)


def applied_discount(subscription, discount_request):
    """The subscription's `discount` for a validated {id, effective_from}."""
    discount = find(State.discounts, discount_request['id'])
    billed = {id_ for item in subscription['items']
              for id_ in (item['price']['id'], item['product']['id'])}
    if discount['restrict_to'] and not billed & set(discount['restrict_to']):
        raise ApiError(400, 'subscription_discount_not_valid_for_items',
                       'discount is not valid for any of the items on the subscription')
    if discount_request['effective_from'] == 'immediately':
        starts = now()
    else:
        starts = parse_rfc3339(period_end(subscription))
    periods = discount['maximum_recurring_intervals'] if discount['recur'] else 1
    ends = periods and add_interval(starts, subscription['billing_cycle']['interval'],
                                    periods * subscription['billing_cycle']['frequency'])
    discount['times_used'] += 1
    return {'id': discount['id'], 'type': 'recurring' if discount['recur'] else 'one-off',
            'starts_at': rfc3339(starts), 'ends_at': ends and rfc3339(ends)}


def update_subscription(request, subscription_id):
    fields = Fields(request.json, ('discount', 'proration_billing_mode', 'scheduled_change',
                                   'custom_data', 'items', 'next_billed_at'))
    proration = fields.enum('proration_billing_mode', PRORATION_MODES)
    fields.typed('custom_data', dict)
    next_billed = fields.moment('next_billed_at')
    items_request = fields.typed('items', list)
    new_items = []
    for index, item in enumerate(items_request or []):
        nested = Fields(item if isinstance(item, dict) else {}, ('price_id', 'quantity'))
        price_id = nested.typed('price_id', str, required=True)
        quantity = nested.typed('quantity', int, required=True)
        if quantity is not None and quantity < 1:
            nested.problem('quantity', 'must be at least 1')
        fields.errors += [{'field': f'items[{index}].' + e['field'], 'message': e['message']}
                          for e in nested.errors]
        if price_id is not None:
            new_items.append((price_id, quantity or 1))
    if items_request is not None and not items_request:
        fields.problem('items', 'must list at least one item')
    # Paddle needs to be told how to bill any change to what or when it bills.
    if (items_request is not None or next_billed is not None) and proration is None:
        fields.problem('proration_billing_mode', 'is required when changing items or next_billed_at')
    discount_request = request.json.get('discount')
    if discount_request is not None and not isinstance(discount_request, dict):
        fields.problem('discount', 'must be an object, or null to remove the discount')
    elif discount_request is not None:
        nested = Fields(discount_request, ('id', 'effective_from'))
        discount_id = nested.typed('id', str, required=True)
        if discount_id is not None and not DISCOUNT_ID.fullmatch(discount_id):
            nested.problem('id', 'must be a Paddle discount id (dsc_…)')
        nested.enum('effective_from', EFFECTIVE_FROM, required=True)
        fields.errors += [{'field': 'discount.' + e['field'], 'message': e['message']}
                          for e in nested.errors]
    fields.check()
    subscription = find(State.subscriptions, subscription_id)
    if subscription['status'] == 'canceled':
        raise ApiError(400, 'subscription_update_when_canceled',
                       'cannot update subscription, as subscription is canceled')
    body = request.json
    if body.get('scheduled_change', None) is not None:
        raise ApiError(400, 'subscription_scheduled_change_invalid_update',
                       'You can only set the `scheduled_change` field to `null`. Other updates '
                       "aren't allowed.")
    if next_billed is not None and next_billed <= now():
        raise ApiError(400, 'invalid_field', 'Invalid request.', errors=[
            {'field': 'next_billed_at', 'message': 'must be in the future'}])
    catalog = {price['id']: (price, product) for price, product in State.catalog.values()}
    for price_id, _ in new_items:
        if price_id not in catalog:
            raise ApiError(404, 'not_found', f'Entity {price_id} not found')
    if 'discount' in body:
        subscription['discount'] = discount_request and applied_discount(subscription,
                                                                         discount_request)
    if new_items:
        stamp = rfc3339(now())
        subscription['items'] = [
            dict(subscription['items'][0], price=catalog[price_id][0], product=catalog[price_id][1],
                 quantity=quantity, updated_at=stamp)
            for price_id, quantity in new_items]
        subscription['billing_cycle'] = dict(catalog[new_items[0][0]][0]['billing_cycle'])
    if next_billed is not None:
        # A trial's end moves with its next billing date.
        set_next_billed(subscription, rfc3339(next_billed))
        if subscription['status'] == 'trialing' and subscription['current_billing_period']:
            subscription['current_billing_period']['ends_at'] = rfc3339(next_billed)
    if 'scheduled_change' in body and subscription['scheduled_change'] is not None:
        subscription['scheduled_change'] = None
        if subscription['status'] != 'paused':
            set_next_billed(subscription, period_end(subscription))
    if 'custom_data' in body:
        subscription['custom_data'] = body['custom_data']
    subscription['updated_at'] = rfc3339(now())
    return 200, envelope(subscription)


# --- Discounts ------------------------------------------------------------------------------

def create_discount(request):
    fields = Fields(request.json, (
        'amount', 'description', 'type', 'enabled_for_checkout', 'code', 'mode',
        'currency_code', 'recur', 'maximum_recurring_intervals', 'usage_limit', 'restrict_to',
        'expires_at', 'custom_data', 'discount_group_id'))
    body = request.json
    amount = fields.typed('amount', str, required=True)
    description = fields.typed('description', str, required=True)
    if description is not None and not 1 <= len(description) <= 500:
        fields.problem('description', 'must be between 1 and 500 characters')
    discount_type = fields.enum('type', DISCOUNT_TYPES, required=True)
    if amount is not None and discount_type == 'percentage' and not is_decimal(amount, 0.01, 100):
        fields.problem('amount', 'must be a percentage between 0.01 and 100')
    if amount is not None and discount_type in ('flat', 'flat_per_seat') and not amount.isdigit():
        fields.problem('amount', 'must be a whole number of the lowest currency unit')
    currency = fields.typed('currency_code', str)
    if currency is not None and not re.fullmatch(r'[A-Z]{3}', currency):
        fields.problem('currency_code', 'must be a three-letter ISO 4217 code in capitals')
    if currency is None and discount_type in ('flat', 'flat_per_seat'):
        fields.problem('currency_code', 'must be provided for flat discounts')
    enabled = fields.typed('enabled_for_checkout', bool) or False
    code = fields.typed('code', str)
    if code is not None and not DISCOUNT_CODE.fullmatch(code):
        fields.problem('code', 'must be letters and numbers only, up to 32 characters')
    recur = fields.typed('recur', bool) or False
    intervals = fields.typed('maximum_recurring_intervals', int)
    if intervals is not None and (intervals < 1 or not recur):
        fields.problem('maximum_recurring_intervals', 'must be at least 1, and requires recur')
    usage_limit = fields.typed('usage_limit', int)
    restrict_to = fields.typed('restrict_to', list)
    if restrict_to and not all(isinstance(entry, str) for entry in restrict_to):
        fields.problem('restrict_to', 'must be a list of product or price ids')
    expires_at = fields.moment('expires_at')
    custom_data = fields.typed('custom_data', dict)
    mode = fields.enum('mode', ('standard', 'custom')) or 'standard'
    if body.get('discount_group_id') is not None:
        fields.problem('discount_group_id', 'discount groups are not supported by the stand-in')
    fields.check()
    if code is None and enabled:
        code = ''.join(random.choice('ABCDEFGHJKLMNPQRSTUVWXYZ23456789') for _ in range(10))
    if code is not None and any((d['code'] or '').lower() == code.lower()
                                for d in State.discounts.values()):
        raise ApiError(409, 'discount_code_conflict',
                       f'discount code {code} conflicts with an existing discount')
    stamp = rfc3339(now())
    discount = {
        'id': new_id('dsc_'), 'status': 'active', 'description': description,
        'enabled_for_checkout': enabled, 'code': code, 'type': discount_type, 'mode': mode,
        'amount': amount, 'currency_code': currency, 'recur': recur,
        'maximum_recurring_intervals': intervals, 'usage_limit': usage_limit,
        'restrict_to': restrict_to, 'expires_at': expires_at and rfc3339(expires_at),
        'times_used': 0, 'custom_data': custom_data, 'import_meta': None,
        'discount_group_id': None, 'created_at': stamp, 'updated_at': stamp}
    State.discounts[discount['id']] = discount
    return 201, envelope(discount)


def get_discount(request, discount_id):
    return 200, envelope(find(State.discounts, discount_id))


def list_discounts(request):
    codes = {code.lower() for code in list_filter(request.query, 'code') or ()}
    ids = list_filter(request.query, 'id')
    statuses = list_filter(request.query, 'status')
    found = [discount for discount in State.discounts.values()
             if (not codes or (discount['code'] or '').lower() in codes)
             and (ids is None or discount['id'] in ids)
             and (statuses is None or discount['status'] in statuses)]
    return 200, page(request, found)


ROUTES = [
    ('GET', r'/customers', list_customers),
    ('GET', r'/customers/([^/]+)', get_customer),
    ('GET', r'/subscriptions', list_subscriptions),
    ('GET', r'/subscriptions/([^/]+)', get_subscription),
    ('PATCH', r'/subscriptions/([^/]+)', update_subscription),
    ('POST', r'/subscriptions/([^/]+)/cancel', cancel_subscription),
    ('POST', r'/subscriptions/([^/]+)/pause', pause_subscription),
    ('POST', r'/discounts', create_discount),
    ('GET', r'/discounts', list_discounts),
    ('GET', r'/discounts/([^/]+)', get_discount),
]
SEED_ROUTES = {('POST', '/_test/customers'): seed_customer,
               ('POST', '/_test/subscriptions'): seed_subscription}


def route(request):
    known_path = False
    for method, pattern, handler in ROUTES:
        match = re.fullmatch(pattern, request.path)
        if match:
            known_path = True
            if method == request.method:
                return handler(request, *match.groups())
    if known_path:
        raise ApiError(405, 'method_not_allowed', 'Method not allowed.')
    raise ApiError(404, 'invalid_url', 'Invalid URL.')


# --- Faults, calls and authentication -------------------------------------------------------

def fault_error(status):
    type_, code, detail = FAULT_ERRORS.get(status) or (
        ('api_error', 'internal_error', FAULT_ERRORS[500][2]) if status >= 500
        else ('request_error', 'bad_request', FAULT_ERRORS[400][2]))
    return ApiError(status, code, detail, type_)


def authenticate(request):
    header = request.headers.get('Authorization')
    if header is None:
        raise ApiError(403, 'authentication_missing', 'Authentication header missing.')
    if not header.startswith('Bearer ') or not header[len('Bearer '):].strip():
        raise ApiError(403, 'authentication_malformed',
                       'Authentication header included, but incorrectly formatted.')
    if header[len('Bearer '):] != State.key:
        raise ApiError(403, 'invalid_token', 'Invalid or revoked API key.')


def test_control(request):
    if (request.method, request.path) in SEED_ROUTES:
        with State.lock:
            return SEED_ROUTES[request.method, request.path](request)
    if (request.method, request.path) == ('GET', '/_test/calls'):
        with State.lock:
            return 200, list(State.calls)
    if (request.method, request.path) == ('POST', '/_test/faults'):
        try:
            faults = parse_faults(request.json)
        except ValueError as error:
            return 400, {'error': str(error)}
        with State.lock:
            State.faults.extend(faults)
            return 200, {'queued': len(State.faults)}
    if (request.method, request.path) == ('POST', '/_test/reset'):
        with State.lock:
            for collection in (State.customers, State.subscriptions, State.discounts,
                               State.catalog, State.calls, State.faults):
                collection.clear()
        return 200, {}
    return 404, {'error': f'no test endpoint {request.method} {request.path}'}


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'   # keep-alive like Paddle; every answer has a length

    def handle_any(self):
        url = urlsplit(self.path)
        self.method, self.path = self.command, url.path
        self.query = parse_qs(url.query, keep_blank_values=True)
        self.extra_headers = {}
        length = int(self.headers.get('Content-Length') or 0)
        raw = self.rfile.read(length).decode('utf-8', 'replace') if length else None
        try:
            self.json = json.loads(raw) if raw else {}
        except ValueError:
            self.json = None
        try:
            if self.path.startswith('/_test/'):
                status, body = test_control(self.parsed_json())
                answer = status, json.dumps(body), 'application/json'
            else:
                answer = self.api_call(url.query, raw)
        except ApiError as error:
            answer = error.status, json.dumps(error.body()), 'application/json'
        self.answer(*answer)

    def parsed_json(self):
        if self.json is None:
            raise ApiError(400, 'invalid_json', 'Invalid JSON in your request.')
        return self

    def api_call(self, query, raw):
        with State.lock:
            State.calls.append({'method': self.method, 'path': self.path, 'query': query,
                                'authorization': self.headers.get('Authorization'),
                                'body': raw})
            authenticate(self)
            fault = take_fault(State.faults, self.method, self.path) or {}
        if fault.get('malformed'):
            return 200, '{"id": ', 'application/json'
        if 'status' in fault:
            if 'retry_after' in fault:
                self.extra_headers['Retry-After'] = str(fault['retry_after'])
            if 'body' in fault:
                return fault['status'], fault['body'], 'text/plain'
            raise fault_error(fault['status'])
        # A delay stalls the request before it is processed, without holding up others: the
        # change still lands even if the client has given up waiting.
        time.sleep(fault.get('delay', 0))
        self.parsed_json()
        with State.lock:
            status, body = route(self)
            return status, json.dumps(body), 'application/json'

    def answer(self, status, text, content_type):
        payload = text.encode()
        try:
            self.send_response(status)
            self.send_header('Content-Type', content_type)
            self.send_header('Content-Length', str(len(payload)))
            for name, value in self.extra_headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True   # the client gave up (a delay fault); that's fine

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = handle_any

    def log_message(self, *args):
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('port', type=int)
    parser.add_argument('--key', required=True, help='the only API key to accept (Bearer)')
    arguments = parser.parse_args()
    State.key = arguments.key
    server = ThreadingHTTPServer(('127.0.0.1', arguments.port), Handler)
    print('ready', flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == '__main__':
    main()
