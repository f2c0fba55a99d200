"""Queued faults, shared by the billing stand-ins (localstripe_plus.py, paddle_standin.py).

A test queues faults with POST /_test/faults; each matching API request then takes the first
fault whose method and path prefix match it, in order. The stand-ins decide what a fault does
(an error in their provider's shape, a delay, a broken answer); this module only checks and
matches them, so both read the same fault format.
"""


def parse_faults(body):
    """Validates a POST /_test/faults body, so a typo fails the test that made it."""
    if not isinstance(body, dict) or not isinstance(body.get('responses'), list):
        raise ValueError('expected {"method"?, "path_prefix"?, "responses": [...]}')
    method, prefix = body.get('method'), body.get('path_prefix', '')
    if (method is not None and not isinstance(method, str)) or not isinstance(prefix, str):
        raise ValueError('method and path_prefix must be strings')
    for response in body['responses']:
        kinds = {'status', 'delay', 'malformed'} & set(response)
        extra = set(response) - {'status', 'delay', 'malformed', 'body', 'retry_after'}
        if len(kinds) != 1 or extra:
            raise ValueError(f'each response needs exactly one of status/delay/malformed: '
                             f'{response}')
        if 'status' in response and not isinstance(response['status'], int):
            raise ValueError(f'status must be an integer: {response}')
        if 'delay' in response and not isinstance(response['delay'], (int, float)):
            raise ValueError(f'delay must be a number of seconds: {response}')
    return [{'method': method and method.upper(), 'path_prefix': prefix, 'response': response}
            for response in body['responses']]


def take_fault(faults, method, path):
    """Removes and returns the response of the first queued fault matching the request."""
    for index, fault in enumerate(faults):
        if fault['method'] in (None, method) and path.startswith(fault['path_prefix']):
            return faults.pop(index)['response']
    return None
