# Alarms and the SNS topic they notify.

resource "aws_sns_topic" "alarms" {
  #checkov:skip=CKV_AWS_26:CloudWatch alarms cannot publish to a topic encrypted with the AWS managed SNS key, and the messages hold only alarm state.
  name = "${var.name}-alarms"
}

resource "aws_sns_topic_subscription" "alarm_email" {
  count = var.alarm_email == null ? 0 : 1

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

locals {
  # The longest time between two scheduled runs, in seconds: exact for rate(...); for a
  # cron(...) that runs on every day of every month, or on some days of the week, the longest
  # gap between its days (a bound: it runs at the same times on each of them). null when the
  # days depend on the month or the year (day-of-month, L, W, #, month or year fields): the
  # plan then needs success_alarm_period.
  schedule_rate = try(regex("^rate\\(([0-9]+) (minute|hour|day)s?\\)$", var.schedule_expression), null)
  cron_fields   = try(split(" ", regex("^cron\\((.*)\\)$", var.schedule_expression)[0]), [])
  week_days     = { SUN = 1, MON = 2, TUE = 3, WED = 4, THU = 5, FRI = 6, SAT = 7 }
  # The day-of-week field's parts (MON-FRI, 2, SAT) as [first, last] or [day]; null for L or #.
  cron_day_ranges = try([
    for part in split(",", upper(local.cron_fields[4])) : [for end in split("-", part) : try(tonumber(end), local.week_days[end])]
  ], null)
  # Days of the week the cron runs on, 1 (SUN) to 7 (SAT), in order (a range may wrap: FRI-MON).
  cron_days = try(
    local.cron_fields[3] == "*" && local.cron_fields[5] == "*" && contains(["*", "?"], local.cron_fields[2]) ? (
      contains(["*", "?"], local.cron_fields[4]) ? range(1, 8) : [
        for day in range(1, 8) : day if anytrue([
          for r in local.cron_day_ranges : r[0] <= r[length(r) - 1] ? day >= r[0] && day <= r[length(r) - 1] : day >= r[0] || day <= r[length(r) - 1]
        ])
      ]
    ) : null,
    null,
  )
  schedule_gap = (
    local.schedule_rate != null ? tonumber(local.schedule_rate[0]) * { minute = 60, hour = 3600, day = 86400 }[local.schedule_rate[1]] :
    try(86400 * max([for i, day in local.cron_days : (i + 1 < length(local.cron_days) ? local.cron_days[i + 1] : local.cron_days[0] + 7) - day]...), null)
  )
  # One hour for the run itself (timeout, Lambda's retries) and metric delivery, one for a
  # daylight-saving day of 25 hours in the schedule's time zone.
  success_alarm_period = var.success_alarm_period != null ? var.success_alarm_period : try(local.schedule_gap + 7200, null)
}

# Fires when no scheduled run has succeeded for longer than the longest gap between scheduled
# runs: the schedule was disabled or deleted, or every run failed or was killed before its
# metric record. How it means what it says (docs/aws-behaviour.md):
# - It counts ScheduledSuccess, which only runs started by Scheduler emit (they carry its
#   execution id): a test run from the console or the CLI cannot clear it.
# - Missing data is "missing", not "breaching": a new alarm starts in INSUFFICIENT_DATA and stays
#   there until the first scheduled run reports, so a fresh deploy is not in ALARM. A failed
#   scheduled run (ScheduledSuccess = 0, no success since) is ALARM; no record at all for the
#   whole window (the schedule stopped, runs killed) is INSUFFICIENT_DATA, which notifies too
#   (insufficient_data_actions). A schedule that never fires after a fresh deploy leaves it in
#   INSUFFICIENT_DATA without a transition, so without a notification: CloudWatch offers no
#   documented way to tell "not yet" from "never".
# - One-hour periods over the window: CloudWatch keeps re-evaluating the last data points for a
#   while after a metric stops (the evaluation range), for longer with longer periods.
resource "aws_cloudwatch_metric_alarm" "no_success" {
  alarm_name        = "${var.name}-no-success"
  alarm_description = "No successful scheduled ${var.name} run (EMF metric benchtest/ScheduledSuccess) in the last ${coalesce(local.success_alarm_period, 0)} seconds. INSUFFICIENT_DATA after a first run: no scheduled run reported at all."

  namespace   = "benchtest"
  metric_name = "ScheduledSuccess"
  dimensions = {
    FunctionName = aws_lambda_function.this.function_name
  }

  statistic           = "Maximum"
  period              = 3600
  evaluation_periods  = ceil(coalesce(local.success_alarm_period, 3600) / 3600)
  datapoints_to_alarm = ceil(coalesce(local.success_alarm_period, 3600) / 3600)
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "missing"
  # Pausing through Terraform (schedule_enabled = false) is deliberate; pausing elsewhere is not.
  actions_enabled = var.schedule_enabled

  alarm_actions             = [aws_sns_topic.alarms.arn]
  ok_actions                = [aws_sns_topic.alarms.arn]
  insufficient_data_actions = [aws_sns_topic.alarms.arn]

  lifecycle {
    precondition {
      condition     = local.success_alarm_period != null
      error_message = "schedule_expression runs on days that depend on the month or the year, so the plan cannot tell the longest time between two runs: set success_alarm_period to it plus 2 hours (at most 7 days)."
    }
    precondition {
      condition     = local.success_alarm_period == null || try(local.success_alarm_period >= local.schedule_gap, true)
      error_message = "The no-success alarm's window (success_alarm_period) must be at least the longest time between two scheduled runs."
    }
    precondition {
      condition     = local.success_alarm_period == null || try(local.success_alarm_period <= 604800, false)
      error_message = "The longest time between two scheduled runs plus 2 hours is over 7 days, the longest window of a CloudWatch alarm: the no-success alarm cannot watch this schedule."
    }
  }
}

# Alarms on something that happened: any datapoint above 0 in a period. A period without data
# is not a failure here (no runs at all is the no-success alarm's case), hence notBreaching.
locals {
  function_dimension = { FunctionName = aws_lambda_function.this.function_name }
  event_alarms = merge(
    {
      errors = {
        description = "The ${var.name} function failed (any error in the period)."
        namespace   = "AWS/Lambda"
        metric      = "Errors"
        dimensions  = local.function_dimension
        statistic   = "Sum"
        period      = var.alarm_period
      }
      # A message sent to the failure queue is a run that failed for good (after all retries):
      # Lambda's on-failure destination and Scheduler's dead-letter queue both send it with
      # SendMessage, which NumberOfMessagesSent counts. Each failure is a new datapoint, so a
      # second failure notifies again; the queue's depth stays above 0 from the first one on.
      failed_runs = {
        description = "A ${var.name} run failed after all retries and was sent to the ${aws_sqs_queue.dlq.name} queue."
        namespace   = "AWS/SQS"
        metric      = "NumberOfMessagesSent"
        dimensions  = { QueueName = aws_sqs_queue.dlq.name }
        statistic   = "Sum"
        period      = 300
      }
      # Lambda could not hand a failed run to the failure queue: it would be lost silently.
      failed_deliveries = {
        description = "Lambda could not deliver a failed ${var.name} run to the ${aws_sqs_queue.dlq.name} queue."
        namespace   = "AWS/Lambda"
        metric      = "DestinationDeliveryFailures"
        dimensions  = local.function_dimension
        statistic   = "Sum"
        period      = 300
      }
      # A balance assertion failed (assert_balances). Not a Lambda error: the run succeeds and
      # writes its report, so the Errors alarm does not see it. The EMF record carries
      # AssertionFailures and RestatedDays on every run, 0 when all is well.
      assertion_failures = {
        description = "A ${var.name} run's balances contradict a balance assertion (assert_balances). The report is in S3; see its assertions section."
        namespace   = "benchtest"
        metric      = "AssertionFailures"
        dimensions  = local.function_dimension
        statistic   = "Maximum"
        period      = var.alarm_period
      }
      # The ledger held no transactions and allow_empty does not say that is expected (an API
      # that serves only recent days, a filter that leaves out every record). The run succeeds
      # and writes its report, like a failed assertion; EmptyLedger is 0 or 1 on every run.
      empty_ledger = {
        description = "A ${var.name} run found an empty ledger (no transactions) and allow_empty is not set. The report is in S3; see the run's summary line."
        namespace   = "benchtest"
        metric      = "EmptyLedger"
        dimensions  = local.function_dimension
        statistic   = "Maximum"
        period      = var.alarm_period
      }
      # latest/ could not be read or used (a 403, a timeout, a corrupt report): the run's
      # comparison says "unavailable" and restated days cannot be found. A missing latest/ (a
      # 404: the first run) is not counted.
      comparison_failures = {
        description = "A ${var.name} run could not compare with the latest report (latest/ unreadable or unusable); see the report's changes note and the function's log."
        namespace   = "benchtest"
        metric      = "ComparisonFailures"
        dimensions  = local.function_dimension
        statistic   = "Maximum"
        period      = var.alarm_period
      }
    },
    # Past days whose own activity changed since the previous scheduled run (RestatedDays counts
    # them; the later days that only carry the difference are not counted): an edited, added or
    # removed past transaction, or a dropped or doubled page. Not always wrong (late postings),
    # hence its own switch, alarm_on_restated_days.
    var.alarm_on_restated_days ? {
      restated_days = {
        description = "A ${var.name} run found restated days: past days whose own change differs since the previous scheduled run (an edited, added or removed transaction); see the report's changes section and the run's summary line."
        namespace   = "benchtest"
        metric      = "RestatedDays"
        dimensions  = local.function_dimension
        statistic   = "Maximum"
        period      = var.alarm_period
      }
    } : {},
  )
}

resource "aws_cloudwatch_metric_alarm" "event" {
  for_each = local.event_alarms

  alarm_name        = "${var.name}-${replace(each.key, "_", "-")}"
  alarm_description = each.value.description

  namespace   = each.value.namespace
  metric_name = each.value.metric
  dimensions  = each.value.dimensions

  statistic           = each.value.statistic
  period              = each.value.period
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"

  alarm_actions = [aws_sns_topic.alarms.arn]
  ok_actions    = [aws_sns_topic.alarms.arn]
}

# These alarms were separate resources before; existing states keep them instead of replacing.
moved {
  from = aws_cloudwatch_metric_alarm.errors
  to   = aws_cloudwatch_metric_alarm.event["errors"]
}
moved {
  from = aws_cloudwatch_metric_alarm.failed_runs
  to   = aws_cloudwatch_metric_alarm.event["failed_runs"]
}
moved {
  from = aws_cloudwatch_metric_alarm.failed_deliveries
  to   = aws_cloudwatch_metric_alarm.event["failed_deliveries"]
}
moved {
  from = aws_cloudwatch_metric_alarm.assertion_failures
  to   = aws_cloudwatch_metric_alarm.event["assertion_failures"]
}
moved {
  from = aws_cloudwatch_metric_alarm.restated_days[0]
  to   = aws_cloudwatch_metric_alarm.event["restated_days"]
}
