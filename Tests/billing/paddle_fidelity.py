"""Checks paddle_standin.py against Paddle's own Python SDK (paddle-python-sdk 1.16.1): every
call Cancelflow's Paddle adapter relies on must succeed against the stand-in and parse into the
SDK's entity classes, and the stand-in's errors must surface as the SDK's ApiError with the
right code. If the SDK accepts what the stand-in sends, the stand-in's shapes are Paddle's.

Usage: python3 paddle_fidelity.py PORT KEY   (a running `paddle_standin.py PORT --key KEY`)

Starts by resetting the stand-in, seeds it through its /_test/ endpoints, prints "ok" and exits
0 when everything holds; otherwise prints what did not and exits 1.
"""

import json
import sys
import traceback
import urllib.request
from datetime import datetime, timezone
from types import SimpleNamespace

from paddle_billing import Client, Options
from paddle_billing.Entities.Customer import Customer
from paddle_billing.Entities.DateTime import DateTime
from paddle_billing.Entities.Discount import Discount
from paddle_billing.Entities.Discounts import DiscountType
from paddle_billing.Entities.Shared import CurrencyCode
from paddle_billing.Entities.Subscription import Subscription
from paddle_billing.Entities.Subscriptions import (SubscriptionDiscountType,
                                                   SubscriptionEffectiveFrom,
                                                   SubscriptionOnResume,
                                                   SubscriptionScheduledChangeAction,
                                                   SubscriptionStatus)
from paddle_billing.Exceptions.ApiError import ApiError
from paddle_billing.Resources.Customers.Operations import ListCustomers
from paddle_billing.Resources.Discounts.Operations import CreateDiscount, ListDiscounts
from paddle_billing.Resources.Shared.Operations import Pager
from paddle_billing.Resources.Subscriptions.Operations import (CancelSubscription,
                                                               ListSubscriptions,
                                                               PauseSubscription,
                                                               SubscriptionDiscount,
                                                               UpdateSubscription)


class Mismatch(Exception):
    pass


def expect(condition, what):
    if not condition:
        raise Mismatch(what)


def control(base, path, body):
    """POST to one of the stand-in's /_test/ endpoints; returns the decoded answer."""
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(), method='POST',
                                     headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def api_error(call):
    """The ApiError a call raises; anything else (or success) is a mismatch."""
    try:
        call()
    except ApiError as error:
        return error
    raise Mismatch('expected the SDK to raise ApiError')


def check(base, key):
    control(base, '/_test/reset', {})
    jane = control(base, '/_test/customers', {'name': 'Jane Doe',
                                              'email': 'Jane@Example.com'})['data']
    sam = control(base, '/_test/customers', {'name': 'Sam Roe', 'email': 'sam@example.com'})['data']

    def seed_subscription(customer, plan_name, amount, interval):
        return control(base, '/_test/subscriptions', {
            'customer_id': customer['id'], 'status': 'active', 'plan_name': plan_name,
            'amount': amount, 'currency': 'USD', 'interval': interval})['data']

    monthly = seed_subscription(jane, 'Pro Monthly', '1500', 'month')
    yearly = seed_subscription(jane, 'Pro Yearly', '15000', 'year')
    sams = seed_subscription(sam, 'Pro Monthly', '1500', 'month')

    client = Client(key, options=Options(environment=SimpleNamespace(base_url=base)))

    # Customers: by id, and by email (exact but case-insensitive, as Paddle matches).
    customer = client.customers.get(jane['id'])
    expect(isinstance(customer, Customer) and customer.email == 'Jane@Example.com',
           f'customers.get: {customer!r}')
    found = list(client.customers.list(ListCustomers(emails=['jane@example.com',
                                                             'nobody@example.com'])))
    expect([c.id for c in found] == [jane['id']] and isinstance(found[0], Customer),
           f'customers.list(emails): {found!r}')

    # Subscriptions: one, a filtered list, and paging one at a time through the `next` links.
    subscription = client.subscriptions.get(monthly['id'])
    item = subscription.items[0]
    expect(isinstance(subscription, Subscription)
           and subscription.status == SubscriptionStatus.Active
           and item.price.unit_price.amount == '1500'
           and item.price.unit_price.currency_code == CurrencyCode.USD
           and item.price.billing_cycle.interval.value == 'month'
           and item.price.name == 'Pro Monthly' and subscription.scheduled_change is None,
           f'subscriptions.get: {subscription!r}')
    listed = list(client.subscriptions.list(ListSubscriptions(
        customer_ids=[jane['id']], statuses=[SubscriptionStatus.Active, SubscriptionStatus.Paused],
        pager=Pager(per_page=1))))
    expect([s.id for s in listed] == [monthly['id'], yearly['id']]
           and all(isinstance(s, Subscription) for s in listed),
           f'subscriptions.list(customer_ids, statuses), paged: {[s.id for s in listed]}')

    # Discounts: create, find by code (codes are not case-sensitive), get.
    created = client.discounts.create(CreateDiscount(
        amount='20', description='Save 20% for 3 months', type=DiscountType.Percentage,
        enabled_for_checkout=False, recur=True, currency_code=CurrencyCode.USD, code='SAVE20',
        maximum_recurring_intervals=3))
    expect(isinstance(created, Discount) and created.code == 'SAVE20'
           and created.maximum_recurring_intervals == 3 and created.id.startswith('dsc_'),
           f'discounts.create: {created!r}')
    by_code = list(client.discounts.list(ListDiscounts(codes=['save20'])))
    expect([d.id for d in by_code] == [created.id], f'discounts.list(codes): {by_code!r}')
    expect(isinstance(client.discounts.get(created.id), Discount), 'discounts.get')

    # Applying the discount.
    updated = client.subscriptions.update(monthly['id'], UpdateSubscription(
        discount=SubscriptionDiscount(id=created.id,
                                      effective_from=SubscriptionEffectiveFrom.Immediately)))
    expect(isinstance(updated, Subscription) and updated.discount.id == created.id
           and updated.discount.type == SubscriptionDiscountType.Recurring
           and updated.discount.ends_at > updated.discount.starts_at,
           f'subscriptions.update(discount): {updated.discount!r}')

    # Cancel at the end of the period, then again (a pending change locks the subscription).
    canceled = client.subscriptions.cancel(monthly['id'], CancelSubscription(
        effective_from=SubscriptionEffectiveFrom.NextBillingPeriod))
    change = canceled.scheduled_change
    expect(change.action == SubscriptionScheduledChangeAction.Cancel
           and change.effective_at == canceled.current_billing_period.ends_at
           and canceled.status == SubscriptionStatus.Active and canceled.next_billed_at is None,
           f'subscriptions.cancel(next_billing_period): {change!r}')
    error = api_error(lambda: client.subscriptions.cancel(monthly['id'], CancelSubscription(
        effective_from=SubscriptionEffectiveFrom.NextBillingPeriod)))
    expect(error.error_code == 'subscription_locked_pending_changes'
           and error.response.status_code == 400, f'second cancel: {error!r}')

    # Pause at the end of the period with a resume date, and immediately.
    resume_at = datetime(2099, 1, 1, tzinfo=timezone.utc)
    paused = client.subscriptions.pause(yearly['id'], PauseSubscription(
        effective_from=SubscriptionEffectiveFrom.NextBillingPeriod,
        resume_at=DateTime('2099-01-01T00:00:00'),
        on_resume=SubscriptionOnResume.StartNewBillingPeriod))
    expect(paused.scheduled_change.action == SubscriptionScheduledChangeAction.Pause
           and paused.scheduled_change.resume_at == resume_at,
           f'subscriptions.pause(next_billing_period): {paused.scheduled_change!r}')
    paused_now = client.subscriptions.pause(sams['id'], PauseSubscription(
        effective_from=SubscriptionEffectiveFrom.Immediately,
        resume_at=DateTime('2099-01-01T00:00:00')))
    expect(paused_now.status == SubscriptionStatus.Paused and paused_now.paused_at is not None
           and paused_now.scheduled_change.action == SubscriptionScheduledChangeAction.Resume
           and paused_now.scheduled_change.effective_at == resume_at,
           f'subscriptions.pause(immediately): {paused_now!r}')

    # Drop the scheduled resume, then cancel the paused subscription immediately.
    cleared = client.subscriptions.update(sams['id'], UpdateSubscription(scheduled_change=None))
    expect(cleared.scheduled_change is None, 'subscriptions.update(scheduled_change=None)')
    gone = client.subscriptions.cancel(sams['id'], CancelSubscription(
        effective_from=SubscriptionEffectiveFrom.Immediately))
    expect(gone.status == SubscriptionStatus.Canceled and gone.canceled_at is not None
           and gone.current_billing_period is None, f'subscriptions.cancel(immediately): {gone!r}')

    # Errors: unknown ids, a wrong key, and an injected 401.
    error = api_error(lambda: client.subscriptions.get('sub_' + '0' * 26))
    expect(error.error_code == 'not_found' and error.response.status_code == 404,
           f'404: {error!r}')
    wrong = Client('pdl_wrong_key', options=Options(environment=SimpleNamespace(base_url=base)))
    error = api_error(lambda: wrong.customers.get(jane['id']))
    expect(error.error_code == 'invalid_token' and error.response.status_code == 403,
           f'wrong key: {error!r}')
    control(base, '/_test/faults', {'method': 'GET', 'path_prefix': '/customers/',
                                    'responses': [{'status': 401}]})
    error = api_error(lambda: client.customers.get(jane['id']))
    expect(error.error_code == 'authentication_malformed' and error.response.status_code == 401,
           f'401 fault: {error!r}')
    control(base, '/_test/faults', {'responses': [{'status': 429, 'retry_after': 2}]})
    error = api_error(lambda: client.customers.get(jane['id']))
    expect(error.error_code == 'too_many_requests' and error.retry_after == 2,
           f'429 fault: {error!r}')


def main():
    if len(sys.argv) != 3:
        sys.exit(f'usage: {sys.argv[0]} PORT KEY')
    base = f'http://127.0.0.1:{int(sys.argv[1])}'
    try:
        check(base, sys.argv[2])
    except Mismatch as mismatch:
        print(f'paddle fidelity: stand-in and SDK disagree: {mismatch}', file=sys.stderr)
        sys.exit(1)
    except (ApiError, KeyError, ValueError, TypeError, AttributeError) as error:
        # A parse failure inside the SDK means a field is missing or has the wrong shape; the
        # traceback says which.
        traceback.print_exc()
        print(f'paddle fidelity: the SDK could not use an answer: {error!r}', file=sys.stderr)
        sys.exit(1)
    print('ok')


if __name__ == '__main__':
    main()
