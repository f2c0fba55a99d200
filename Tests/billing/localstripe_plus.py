"""A stateful fake Stripe for the billing tests: localstripe (PyPI, 1.15.10) plus the parts of
the Subscriptions API that Cancelflow's Stripe adapter uses and localstripe lacks, added here by
monkeypatching from our own module (no localstripe code is copied).

Usage: python3 localstripe_plus.py PORT [--key KEY]

Listens on 127.0.0.1:PORT only, never writes localstripe's /tmp/localstripe.pickle, and prints
exactly "ready" on stdout once the socket is bound. With --key, every /v1 request whose
`Authorization` header is not exactly `Bearer KEY` answers 401; without it, any `sk_…` key is
accepted (localstripe's own rule). KEY must start with `sk_` for localstripe to accept it too.

Seeding (curl-level; all /v1 bodies are form-encoded, `-H "Authorization: Bearer sk_test_x"`):
  1. A card payment method:   POST /v1/payment_methods  type=card card[number]=4242424242424242
                              card[exp_month]=12 card[exp_year]=2030 card[cvc]=123   -> pm_…
  2. The customer, with that card as default (a subscription on a customer without one answers
     404 "This customer has no payment method"):
                              POST /v1/customers  email=… name=… payment_method=pm_…
                              invoice_settings[default_payment_method]=pm_…          -> cus_…
  3. A product:               POST /v1/products  id=prod_pro name=Pro
  4. Plans (localstripe has no /v1/prices; plans are the price-like object here):
                              POST /v1/plans  id=pro-monthly product=prod_pro amount=1500
                              currency=usd interval=month nickname="Pro Monthly"
  5. Subscriptions, one item each (more than one item answers 500 "Not implemented"):
                              POST /v1/subscriptions  customer=cus_… items[0][plan]=pro-monthly
     They start `active` (the first invoice is paid with the card at once).
  6. Coupons:                 POST /v1/coupons  id=SAVE20 percent_off=20 duration=repeating
                              duration_in_months=3   (`id` is generated when omitted; `name` ok)

Where things are in a subscription (GET /v1/subscriptions/{id}):
  status, cancel_at_period_end, canceled_at, ended_at, pause_collection ({behavior, resumes_at}
  or null), cancellation_details {comment, feedback, reason}, discount (object or null),
  discounts (list of discount ids; objects with `expand[]=discounts`, or `expand[]=data.discounts`
  on lists), current_period_start/current_period_end at the top level (localstripe) and, added
  here, on items.data[0] as well (Stripe API versions from 2025-03-31.basil keep them only there),
  items.data[0].plan.{id, nickname, amount, currency, interval, interval_count, product}.
Lists: GET /v1/subscriptions?customer=cus_…&status=all (default omits canceled ones; status=
one of all/active/canceled/…), GET /v1/customers?email=… (exact, case-sensitive, as Stripe),
`expand[]=customer` on objects and `expand[]=data.customer` on lists work.

Added here, beyond stock localstripe:
  - POST /v1/subscriptions/{id} takes items[0][price] (Stripe's name; localstripe reads plan),
    checks items[0][id] against the subscription's item, and a future trial_end makes the
    subscription `trialing`, as Stripe does (stock localstripe only stores trial_end).
  - POST /v1/subscriptions/{id} accepts pause_collection[behavior|resumes_at] (`pause_collection=`
    clears it), discounts[N][coupon] (`discounts=` clears; an unknown coupon answers 404
    resource_missing), cancellation_details[comment|feedback], metadata (merged, as Stripe does;
    localstripe silently drops it) and proration_behavior (validated, otherwise ignored).
    Everything is validated before anything changes; an unknown parameter or sub-key answers 400
    `parameter_unknown`; a canceled subscription only takes cancellation_details and metadata.
    Setting cancel_at_period_end=true (or cancel_at) stamps canceled_at, as Stripe does.
  - DELETE /v1/subscriptions/{id} sets canceled_at and accepts cancellation_details, invoice_now and
    prorate; cancellation_details.reason becomes "cancellation_requested" once cancellation is
    requested.
  - Coupons: creating an existing id answers 400 `resource_already_exists` (stock: 409 "Conflict").
  - Unknown objects answer 404 `resource_missing` "No such subscription: 'sub_…'"; unknown URLs
    answer a Stripe-shaped 404; unknown list filters a 400 instead of a 500.
  - POST requests honour Idempotency-Key like Stripe: same key and same body replays the stored
    answer (header Idempotent-Replayed: true), a different body answers 400 idempotency_error,
    a retry while the first is still running answers 409 idempotency_key_in_use. 400 answers
    are not stored (Stripe stores no result when validation fails).
Test control (not under /v1, no auth):
  GET  /_test/calls   every /v1 request so far, in order: {method, path, query (raw string),
                      idempotency_key, stripe_version, authorization (raw header), body (raw text)}
  POST /_test/faults  {"method": "POST", "path_prefix": "/v1/subscriptions/", "responses": [...]}
                      queues faults, each used by one matching request, in order: {"status": 429}
                      / {"status": 500, "body": "text"} / {"status": 401} (Stripe-shaped error JSON
                      unless "body" is given, then that text as text/plain; "retry_after": N adds
                      a Retry-After header), {"delay": SECONDS} (sleep, then process normally, so
                      the change lands even if the client gave up), {"malformed": true} (200 with
                      the body `{"id": `, nothing applied).
  POST /_test/reset   forgets all objects, calls, faults and idempotency keys.

What this stand-in does not cover (compared with the real Stripe API):
  - /v1/prices, Checkout, the customer portal, subscription schedules, promotion codes, webhooks
    signed the way Stripe signs them, test clocks; subscriptions with more than one item.
  - Time never passes: no renewals, pause_collection.resumes_at and cancel_at_period_end never
    fire, a repeating discount never ends, no invoices are affected by pause or discounts.
  - Discount objects keep `coupon` (API versions before 2025-09-30.clover; newer ones put it
    under `source.coupon`); discounts[N][discount|promotion_code] are refused; the deprecated
    `coupon=` parameter is refused (as Stripe does since 2025-03-31.basil).
  - Only the parameters localstripe knows are accepted elsewhere (description, default_payment_
    method, … answer 400 parameter_unknown here but are valid in Stripe); error messages other
    than those listed above are localstripe's ("Bad request") rather than Stripe's wording.
  - Params are taken from JSON bodies too (Stripe only takes form encoding); Stripe-Version is
    recorded but ignored; rate limits only happen through faults.
"""

import argparse
import asyncio
import inspect
import json
import re
import sys
import time
from datetime import datetime

from aiohttp import web
from dateutil.relativedelta import relativedelta
from localstripe import server
from localstripe.errors import UserError
from localstripe.resources import (Coupon, List, Store, StripeObject, Subscription,
                                   SubscriptionItem, random_id)

from standin_faults import parse_faults, take_fault

# localstripe pickles its whole store to one shared file on every write; tests running in
# parallel must not share or leave state behind.
Store.dump_to_disk = lambda self: None

PAUSE_BEHAVIORS = ('keep_as_draft', 'mark_uncollectible', 'void')
# Stripe's documented values for cancellation_details[feedback].
FEEDBACK_VALUES = ('customer_service', 'low_quality', 'missing_features', 'other',
                   'switched_service', 'too_complex', 'too_expensive', 'unused')
PRORATION_BEHAVIORS = ('always_invoice', 'create_prorations', 'none')
SUBSCRIPTION_PATH = re.compile(r'/v1/subscriptions/([^/]+)')


class State:
    """What the test-control endpoints read and reset; separate from localstripe's store."""
    key = None          # --key, when given
    calls = []
    faults = []         # [{"method", "path_prefix", "response"}], consumed front to back
    idempotent = {}     # (authorization, key) -> {"request": (path, body), "response": ...}


def invalid(message, param=None, code=None, status=400):
    """A Stripe-shaped invalid_request_error, raised from inside localstripe's resources so its
    own error middleware (or ours) turns it into the response."""
    contents = {key: value for key, value in (('param', param), ('code', code)) if value}
    return UserError(status, message, contents)


def error_response(status, message, type_='invalid_request_error', **extra):
    body = {'type': type_, 'message': message}
    body.update({key: value for key, value in extra.items() if value is not None})
    return server.json_response({'error': body}, status=status)


def reject_unknown(params, accepted, prefix=''):
    for name in params:
        if name not in accepted:
            param = f'{prefix}[{name}]' if prefix else name
            raise invalid(f'Received unknown parameter: {param}', param, 'parameter_unknown')


def as_bool(value, param):
    if value in (True, False):
        return value
    if value in ('true', 'false'):
        return value == 'true'
    raise invalid(f'Invalid boolean: {value}', param)


# --- Unknown objects: Stripe names the object and says resource_missing ---------------------

_stock_retrieve = StripeObject._api_retrieve.__func__


@classmethod
def _retrieve(cls, id):
    try:
        return _stock_retrieve(cls, id)
    except UserError as error:
        if error.code != 404:
            raise
        raise invalid(f"No such {cls.object}: '{id}'", 'id', 'resource_missing', 404) from None


StripeObject._api_retrieve = _retrieve


# --- Coupons --------------------------------------------------------------------------------

_stock_coupon_create = Coupon._api_create.__func__
Coupon.name = None  # class default so every coupon exports `name`, as Stripe's do


@classmethod
def _create_coupon(cls, id=None, name=None, **params):
    # Stripe generates an id when none is given; localstripe insists on one.
    id = id or random_id(8)
    if name is not None and not isinstance(name, str):
        raise invalid('Invalid string: name', 'name')
    try:
        cls._api_retrieve(id)
    except UserError:
        pass
    else:
        raise invalid('Coupon already exists.', 'id', 'resource_already_exists')
    coupon = _stock_coupon_create(cls, id=id, **params)
    coupon.name = name
    return coupon


Coupon._api_create = _create_coupon


# --- Subscriptions --------------------------------------------------------------------------

# Defaults on the class: localstripe exports every public attribute it finds, so these show up
# on subscriptions created before any update, exactly like Stripe's always-present fields.
Subscription.pause_collection = None
Subscription._discount_objects = ()
Subscription._cancellation_comment = None
Subscription._cancellation_feedback = None
Subscription.discounts = property(lambda self: [d['id'] for d in self._discount_objects])


def _cancellation_details(self):
    requested = self.status == 'canceled' or self.cancel_at_period_end or self.cancel_at
    return {'comment': self._cancellation_comment, 'feedback': self._cancellation_feedback,
            'reason': 'cancellation_requested' if requested else None}


Subscription.cancellation_details = property(_cancellation_details)

# Newer Stripe API versions report the billing period on the item only; expose it there too so
# an adapter written against either shape can be tested.
SubscriptionItem.current_period_start = property(lambda self: self._current_period()['start'])
SubscriptionItem.current_period_end = property(lambda self: self._current_period()['end'])

_stock_update = Subscription._update
_STOCK_UPDATE_PARAMS = set(inspect.signature(_stock_update).parameters) - {'self', 'metadata'}
_UPDATE_PARAMS = _STOCK_UPDATE_PARAMS | {'pause_collection', 'discounts', 'cancellation_details',
                                         'metadata', 'proration_behavior'}


def parse_pause_collection(value):
    """'' clears; otherwise {behavior, resumes_at?}. Returns the new value of the field."""
    if value == '':
        return None
    if not isinstance(value, dict):
        raise invalid('Invalid object', 'pause_collection')
    reject_unknown(value, ('behavior', 'resumes_at'), 'pause_collection')
    if value.get('behavior') not in PAUSE_BEHAVIORS:
        raise invalid('Invalid pause_collection[behavior]: must be one of keep_as_draft, '
                      'mark_uncollectible, or void', 'pause_collection[behavior]')
    resumes_at = value.get('resumes_at')
    if resumes_at is not None:
        try:
            resumes_at = int(resumes_at)
        except (TypeError, ValueError):
            raise invalid('Invalid integer: ' + str(resumes_at),
                          'pause_collection[resumes_at]') from None
    return {'behavior': value['behavior'], 'resumes_at': resumes_at}


def parse_discounts(subscription, value):
    """'' clears; otherwise a list of {coupon}. Returns the discount objects to store."""
    if value == '':
        return []
    if not isinstance(value, list):
        raise invalid('Invalid array', 'discounts')
    discounts = []
    for index, entry in enumerate(value):
        prefix = f'discounts[{index}]'
        if not isinstance(entry, dict):
            raise invalid('Invalid object', prefix)
        for name in ('discount', 'promotion_code'):
            if name in entry:
                raise invalid(f'{prefix}[{name}] is not supported by this stand-in',
                              f'{prefix}[{name}]')
        reject_unknown(entry, ('coupon',), prefix)
        if not isinstance(entry.get('coupon'), str):
            raise invalid(f'Missing required param: {prefix}[coupon].', f'{prefix}[coupon]',
                          'parameter_missing')
        try:
            coupon = Coupon._api_retrieve(entry['coupon'])
        except UserError:
            raise invalid(f"No such coupon: '{entry['coupon']}'", f'{prefix}[coupon]',
                          'resource_missing', 404) from None
        discounts.append(new_discount(subscription, coupon))
    return discounts


def new_discount(subscription, coupon):
    start = int(time.time())
    end = None
    if coupon.duration == 'repeating':
        months = relativedelta(months=coupon.duration_in_months)
        end = int((datetime.fromtimestamp(start) + months).timestamp())
    return {'id': 'di_' + random_id(24), 'object': 'discount', 'checkout_session': None,
            'coupon': coupon._export(), 'customer': subscription.customer, 'end': end,
            'invoice': None, 'invoice_item': None, 'promotion_code': None, 'start': start,
            'subscription': subscription.id, 'subscription_item': None}


def parse_cancellation_details(value):
    """Returns {comment?, feedback?} with '' meaning unset, as Stripe treats empty strings."""
    if not isinstance(value, dict):
        raise invalid('Invalid object', 'cancellation_details')
    reject_unknown(value, ('comment', 'feedback'), 'cancellation_details')
    feedback = value.get('feedback')
    if feedback not in (None, '') and feedback not in FEEDBACK_VALUES:
        raise invalid('Invalid cancellation_details[feedback]: must be one of '
                      + ', '.join(FEEDBACK_VALUES), 'cancellation_details[feedback]')
    comment = value.get('comment')
    if comment is not None and (not isinstance(comment, str) or len(comment) > 5000):
        raise invalid('Invalid string: cancellation_details[comment]',
                      'cancellation_details[comment]')
    return value


def apply_cancellation_details(subscription, details):
    if 'comment' in details:
        subscription._cancellation_comment = details['comment'] or None
    if 'feedback' in details:
        subscription._cancellation_feedback = details['feedback'] or None


def parse_metadata(value):
    if value != '' and not (isinstance(value, dict)
                            and all(isinstance(v, str) for v in value.values())):
        raise invalid('Invalid object', 'metadata')
    return value


def apply_metadata(stripe_object, metadata):
    # Stripe merges keys, unsets a key given '' and clears everything given metadata=''.
    if metadata == '':
        stripe_object.metadata = {}
        return
    merged = dict(stripe_object.metadata or {}, **metadata)
    stripe_object.metadata = {key: value for key, value in merged.items() if value != ''}


def _update(self, **params):
    reject_unknown(params, _UPDATE_PARAMS)
    if self.status == 'canceled' and set(params) - {'cancellation_details', 'metadata'}:
        raise invalid('A canceled subscription can only update its cancellation_details and '
                      'metadata.')
    # Validate all of ours first; localstripe validates its own before it changes anything.
    parsers = {'pause_collection': parse_pause_collection,
               'discounts': lambda value: parse_discounts(self, value),
               'cancellation_details': parse_cancellation_details,
               'metadata': parse_metadata}
    changes = {}
    for name, parse in parsers.items():
        value = params.pop(name, None)
        if value is not None:
            changes[name] = parse(value)
    behavior = params.pop('proration_behavior', None)
    if behavior is not None and behavior not in PRORATION_BEHAVIORS:
        raise invalid('Invalid proration_behavior: must be one of always_invoice, '
                      'create_prorations, or none', 'proration_behavior')
    items = params.get('items')
    if items is not None:
        # Stripe names the new price items[N][price]; localstripe's plans are its prices, and it
        # reads items[N][plan]. An item id must be the subscription's own, as Stripe checks.
        for index, item in enumerate(items if isinstance(items, list) else []):
            reject_unknown(item, ('id', 'price', 'plan', 'quantity'), f'items[{index}]')
            if item.get('id') not in (None, self.items._list[0].id):
                raise invalid(f"No such subscription item: '{item['id']}'", f'items[{index}][id]', 'resource_missing', 404)
            if 'price' in item:
                item['plan'] = item.pop('price')
            item.pop('id', None)
    trial_end = params.get('trial_end')
    if params:
        _stock_update(self, **params)
    if trial_end is not None and trial_end != 'now' and int(trial_end) > int(time.time()):
        # Stripe: a trial end in the future makes the subscription trialing until then (free
        # time). localstripe only stores the field (and computes periods from the start date).
        self.status = 'trialing'
    if 'cancel_at_period_end' in params or 'cancel_at' in params:
        # Stripe stamps the time of the cancellation request, and clears it on undo.
        requested = self.cancel_at_period_end or self.cancel_at
        self.canceled_at = int(time.time()) if requested else None
    if 'pause_collection' in changes:
        self.pause_collection = changes['pause_collection']
    if 'discounts' in changes:
        self._discount_objects = changes['discounts']
        self.discount = changes['discounts'][0] if changes['discounts'] else None
    if 'cancellation_details' in changes:
        apply_cancellation_details(self, changes['cancellation_details'])
    if 'metadata' in changes:
        apply_metadata(self, changes['metadata'])


Subscription._update = _update

_stock_delete = Subscription._api_delete.__func__


@classmethod
def _delete(cls, id):
    subscription = _stock_delete(cls, id)
    subscription.canceled_at = subscription.ended_at
    return subscription


Subscription._api_delete = _delete

_stock_list_subscriptions = Subscription._api_list_all.__func__
_LIST_PARAMS = set(inspect.signature(_stock_list_subscriptions).parameters) - {'cls', 'url'}


@classmethod
def _list_subscriptions(cls, url, **params):
    # localstripe answers an unknown filter with a 500; Stripe with a 400.
    reject_unknown(params, _LIST_PARAMS)
    return _stock_list_subscriptions(cls, url, **params)


Subscription._api_list_all = _list_subscriptions

# `discounts` holds ids unless expanded, as in Stripe; localstripe's expansion only knows
# single ids, so the two expansions that reach discounts are handled here.
_stock_export = StripeObject._export


def _split_expand(expand, path):
    if isinstance(expand, list) and path in expand:
        return [entry for entry in expand if entry != path], True
    return expand, False


def _export_subscription(self, expand=None):
    expand, with_discounts = _split_expand(expand, 'discounts')
    exported = _stock_export(self, expand=expand)
    if with_discounts:
        exported['discounts'] = [dict(d) for d in self._discount_objects]
    return exported


def _export_list(self, expand=None):
    expand, with_discounts = _split_expand(expand, 'data.discounts')
    exported = _stock_export(self, expand=expand)
    if with_discounts:
        for item in exported['data']:
            if item.get('object') == 'subscription':
                subscription = Subscription._api_retrieve(item['id'])
                item['discounts'] = [dict(d) for d in subscription._discount_objects]
    return exported


Subscription._export = _export_subscription
List._export = _export_list


async def cancel_subscription(request, subscription_id):
    """DELETE /v1/subscriptions/{id}: localstripe ignores the request's parameters."""
    if server.get_api_key(request) is None:
        raise UserError(401, 'Unauthorized')
    params = server.unflatten_data(request.query)
    params.update(await server.get_post_data(request) or {})
    expand = params.pop('expand', None)
    reject_unknown(params, ('cancellation_details', 'invoice_now', 'prorate'))
    details = parse_cancellation_details(params.get('cancellation_details', {}))
    for flag in ('invoice_now', 'prorate'):
        if flag in params:
            as_bool(params[flag], flag)
    subscription = Subscription._api_retrieve(subscription_id)
    if subscription.status != 'canceled':
        Subscription._api_delete(subscription_id)
    apply_cancellation_details(subscription, details)
    return server.json_response(subscription._export(expand=expand))


# --- Faults, calls and authentication -------------------------------------------------------

def redacted(key):
    return key[:8] + '*' * (len(key) - 12) + key[-4:] if len(key) > 12 else '****'


def invalid_key_response(request):
    header = request.headers.get('Authorization', '')
    key = header[len('Bearer '):] if header.startswith('Bearer ') else ''
    if not key:
        return error_response(401, 'You did not provide an API key. You need to provide your '
                                   'API key in the Authorization header, using Bearer auth.')
    return error_response(401, f'Invalid API Key provided: {redacted(key)}')


def fault_response(request, fault):
    status = fault['status']
    headers = {'Retry-After': str(fault['retry_after'])} if 'retry_after' in fault else None
    if 'body' in fault:
        return web.Response(status=status, text=fault['body'], headers=headers)
    if status == 401:
        response = invalid_key_response(request)
    elif status == 429:
        response = error_response(429, 'Request rate limit exceeded. You can learn more about '
                                       'rate limits here https://stripe.com/docs/rate-limits.',
                                  code='rate_limit')
    elif status >= 500:
        response = error_response(status, 'An unknown error occurred', 'api_error')
    else:
        response = error_response(status, f'Injected {status} fault')
    response.headers.update(headers or {})
    return response


async def test_control(request):
    route = (request.method, request.path)
    if route == ('GET', '/_test/calls'):
        return web.json_response(State.calls)
    if route == ('POST', '/_test/faults'):
        try:
            State.faults.extend(parse_faults(json.loads(await request.text())))
        except ValueError as error:
            return web.json_response({'error': str(error)}, status=400)
        return web.json_response({'queued': len(State.faults)})
    if route == ('POST', '/_test/reset'):
        server.store.clear()
        State.calls.clear()
        State.faults.clear()
        State.idempotent.clear()
        return web.json_response({})
    return web.json_response({'error': f'no test endpoint {request.method} {request.path}'},
                             status=404)


async def dispatch(request, handler, delay):
    # A delay fault stalls the request while it "executes": after it holds its idempotency
    # key, before the change is made.
    await asyncio.sleep(delay)
    match = SUBSCRIPTION_PATH.fullmatch(request.path)
    try:
        if request.method == 'DELETE' and match:
            return await cancel_subscription(request, match[1])
        return await handler(request)
    except UserError as error:
        return error.to_response()
    except (web.HTTPNotFound, web.HTTPMethodNotAllowed):
        return error_response(404, f'Unrecognized request URL ({request.method}: '
                                   f'{request.path}). Please see https://stripe.com/docs or we '
                                   f'can help at https://support.stripe.com/.')


async def idempotent_dispatch(request, handler, delay, key, body):
    scope = (request.headers.get('Authorization'), key)
    fingerprint = (request.path, body)
    entry = State.idempotent.get(scope)
    if entry is not None:
        if entry['request'] != fingerprint:
            return error_response(
                400, 'Keys for idempotent requests can only be used with the same parameters '
                     f"they were first used with. Try using a key other than '{key}' if you "
                     'meant to execute a different request.', 'idempotency_error')
        if entry['response'] is None:
            return error_response(
                409, 'There is currently another in-progress request using this Idempotent '
                     'Key (that probably means you submitted twice, and the other request is '
                     f'still going through): {key}. Please try again later.',
                code='idempotency_key_in_use')
        status, text, content_type = entry['response']
        return web.Response(status=status, body=text, content_type=content_type,
                            headers={'Idempotent-Replayed': 'true'})
    State.idempotent[scope] = entry = {'request': fingerprint, 'response': None}
    try:
        response = await dispatch(request, handler, delay)
    except BaseException:
        del State.idempotent[scope]
        raise
    if response.status == 400:
        del State.idempotent[scope]
    else:
        entry['response'] = (response.status, response.body, response.content_type)
    return response


async def serve_v1(request, handler, body):
    if State.key is not None and request.headers.get('Authorization') != f'Bearer {State.key}':
        return invalid_key_response(request)
    fault = take_fault(State.faults, request.method, request.path) or {}
    if fault.get('malformed'):
        return web.Response(status=200, text='{"id": ', content_type='application/json')
    if 'status' in fault:
        return fault_response(request, fault)
    delay = fault.get('delay', 0)
    key = request.headers.get('Idempotency-Key')
    if request.method == 'POST' and key:
        return await idempotent_dispatch(request, handler, delay, key, body)
    return await dispatch(request, handler, delay)


@web.middleware
async def stand_in_middleware(request, handler):
    if request.path.startswith('/_test/'):
        return await test_control(request)
    if not request.path.startswith('/v1/'):
        return await handler(request)
    body = await request.read()
    State.calls.append({
        'method': request.method, 'path': request.path, 'query': request.query_string,
        'idempotency_key': request.headers.get('Idempotency-Key'),
        'stripe_version': request.headers.get('Stripe-Version'),
        'authorization': request.headers.get('Authorization'),
        'body': body.decode('utf-8', 'replace') if body else None})
    response = await serve_v1(request, handler, body)
    response.headers['Request-Id'] = 'req_' + random_id(14)
    return response


# Outermost, so faults, auth and the test endpoints come before localstripe's own middlewares.
server.app.middlewares.insert(0, stand_in_middleware)


async def main(port):
    runner = web.AppRunner(server.app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, '127.0.0.1', port).start()
    print('ready', flush=True)
    await asyncio.Event().wait()


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('port', type=int)
    parser.add_argument('--key', help='the only API key to accept (Bearer)')
    arguments = parser.parse_args()
    State.key = arguments.key
    try:
        asyncio.run(main(arguments.port))
    except KeyboardInterrupt:
        sys.exit(0)
