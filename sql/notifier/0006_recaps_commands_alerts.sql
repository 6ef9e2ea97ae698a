-- WhatsApp admin commands (DOMAIN §6): every inbound message the notifier acted on, by the provider's message
-- id. A message the gateway reports again under a new event id (a provider retrying its webhook) is found
-- here and not acted on twice; the inbox alone only dedups the same event.
CREATE TABLE IF NOT EXISTS inbound_commands (
    message_id  text PRIMARY KEY,
    sender      text NOT NULL,          -- normalised digits (628…), as in the directory copy
    command     text NOT NULL,          -- fetch | rekap | notifwa | menu | unknown | none
    client_id   text,
    outcome     text NOT NULL,
    received_at timestamptz NOT NULL
);

-- Operational alerts (DOMAIN §5): one summary per fetch run (run_id = tick_id).
-- A run is known from its FetchRunStarted; it is summarised once (summarized_at), when every one of its
-- clients completed ('complete') or when the next run of the same schedule starts first ('incomplete').
CREATE TABLE IF NOT EXISTS ops_runs (
    run_id        text PRIMARY KEY,
    schedule      text NOT NULL,
    phase         text NOT NULL,
    mandatory     boolean NOT NULL,
    scheduled_for timestamptz NOT NULL,
    client_ids    text[] NOT NULL,
    summarized_at timestamptz,
    outcome       text
);
CREATE INDEX IF NOT EXISTS ops_runs_open ON ops_runs (schedule, scheduled_for) WHERE summarized_at IS NULL;

-- Each ClientFetchCompleted by tick id (also those arriving before their run's FetchRunStarted), with its
-- errors as the summary lines ("instagram <post>: message").
CREATE TABLE IF NOT EXISTS ops_run_clients (
    run_id     text NOT NULL,
    client_id  text NOT NULL,
    fetched_at timestamptz NOT NULL,
    errors     text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (run_id, client_id)
);

-- Every OperationalAlertRaised (by event id). reported_in names the run whose summary carried it, or whose
-- summary already carried the same errors; NULL means it still waits for a summary.
CREATE TABLE IF NOT EXISTS ops_alerts (
    alert_id    uuid PRIMARY KEY,
    run_id      text,
    client_id   text,
    source      text NOT NULL,
    severity    text NOT NULL,
    summary     text NOT NULL,
    details     text[] NOT NULL DEFAULT '{}',
    raised_at   timestamptz NOT NULL,
    reported_in text
);
CREATE INDEX IF NOT EXISTS ops_alerts_run ON ops_alerts (run_id);
CREATE INDEX IF NOT EXISTS ops_alerts_waiting ON ops_alerts (raised_at) WHERE reported_in IS NULL;
