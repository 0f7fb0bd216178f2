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
  # The schedule's interval: rate(N unit) exactly; cron(...) is assumed to run at least daily.
  schedule_rate     = try(regex("^rate\\(([0-9]+) (minute|hour|day)s?\\)$", var.schedule_expression), null)
  schedule_interval = local.schedule_rate == null ? 86400 : tonumber(local.schedule_rate[0]) * { minute = 60, hour = 3600, day = 86400 }[local.schedule_rate[1]]
  # One hour of slack covers the run itself, metric delivery and a daylight-saving shift.
  success_alarm_period = coalesce(var.success_alarm_period, min(local.schedule_interval + 3600, 604800))
}

# Fires when no run has succeeded for longer than the schedule's interval: the schedule was
# disabled or deleted, or every run failed or was killed before its metric record.
resource "aws_cloudwatch_metric_alarm" "no_success" {
  alarm_name        = "${var.name}-no-success"
  alarm_description = "No successful ${var.name} run (EMF metric benchtest/Success) in the last ${local.success_alarm_period} seconds."

  namespace   = "benchtest"
  metric_name = "Success"
  dimensions = {
    FunctionName = aws_lambda_function.this.function_name
  }

  statistic           = "Maximum"
  period              = local.success_alarm_period
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  # No record at all is the failure this alarm exists for.
  treat_missing_data = "breaching"
  # Pausing through Terraform (schedule_enabled = false) is deliberate; pausing elsewhere is not.
  actions_enabled = var.schedule_enabled

  alarm_actions = [aws_sns_topic.alarms.arn]
  ok_actions    = [aws_sns_topic.alarms.arn]

  lifecycle {
    precondition {
      condition     = local.success_alarm_period >= local.schedule_interval
      error_message = "The no-success alarm's window (success_alarm_period, at most 7 days) must be at least the schedule's interval."
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
      # A message in the failure queue is a run that failed for good (after all retries).
      failed_runs = {
        description = "A ${var.name} run failed after all retries and waits in the ${aws_sqs_queue.dlq.name} queue."
        namespace   = "AWS/SQS"
        metric      = "ApproximateNumberOfMessagesVisible"
        dimensions  = { QueueName = aws_sqs_queue.dlq.name }
        statistic   = "Maximum"
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
    },
    # Past days changed since the previous scheduled run: an edited, added or removed past
    # transaction, or a dropped or doubled page. Not always wrong (late postings), hence its own
    # switch, alarm_on_restated_days.
    var.alarm_on_restated_days ? {
      restated_days = {
        description = "A ${var.name} run found past days whose balance changed since the previous scheduled run; see the report's changes section."
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
