"""Push reminders: schedules, device subscriptions, and the worker that sends them."""
