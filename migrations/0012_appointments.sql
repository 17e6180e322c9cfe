-- Appointments: what a tenant offers (services), when it is open (weekly hours, closed dates),
-- and what is booked. A booking holds one row per 5-minute slot it covers in
-- appointment_slots, whose primary key makes double-booking impossible on both engines, even
-- for requests racing each other.

CREATE TABLE services (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    duration_minutes INTEGER NOT NULL CHECK (duration_minutes > 0),
    price_minor INTEGER NOT NULL DEFAULT 0,
    active INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

-- Weekly opening intervals in the tenant's local time: weekday 1 (Monday) to 7, minutes since midnight.
CREATE TABLE opening_hours (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    weekday INTEGER NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    opens_minute INTEGER NOT NULL,
    closes_minute INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, weekday, opens_minute)
);

-- Whole days the business is closed (holidays), as local dates.
CREATE TABLE closed_dates (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    date TEXT NOT NULL,
    reason TEXT,
    PRIMARY KEY (tenant_id, date)
);

CREATE TABLE appointments (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    lead_id TEXT NOT NULL,
    service_id TEXT NOT NULL,
    starts_at TIMESTAMPTZ NOT NULL,
    ends_at TIMESTAMPTZ NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('booked', 'confirmed', 'cancelled', 'completed', 'no_show')),
    notes TEXT,
    cancel_reason TEXT,
    source TEXT NOT NULL DEFAULT 'api',
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX appointments_starts ON appointments (tenant_id, starts_at);
CREATE INDEX appointments_lead ON appointments (tenant_id, lead_id);

CREATE TABLE appointment_slots (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    slot_start TIMESTAMPTZ NOT NULL,
    appointment_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, slot_start)
);
CREATE INDEX appointment_slots_appointment ON appointment_slots (tenant_id, appointment_id);

-- Booking rules: how far apart offered start times are.
CREATE TABLE booking_settings (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    slot_step_minutes INTEGER NOT NULL DEFAULT 15,
    updated_at TIMESTAMPTZ NOT NULL
);
