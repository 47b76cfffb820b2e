"""Meeting series: a committee's recurrence rule and the draft meetings created ahead from it."""
