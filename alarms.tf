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

resource "aws_cloudwatch_metric_alarm" "errors" {
  alarm_name        = "${var.name}-errors"
  alarm_description = "The ${var.name} function failed (any error in the period)."

  namespace   = "AWS/Lambda"
  metric_name = "Errors"
  dimensions = {
    FunctionName = aws_lambda_function.this.function_name
  }

  statistic           = "Sum"
  period              = var.alarm_period
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"

  alarm_actions = [aws_sns_topic.alarms.arn]
  ok_actions    = [aws_sns_topic.alarms.arn]
}

# A message here is a run that failed for good (after all retries).
resource "aws_cloudwatch_metric_alarm" "failed_runs" {
  alarm_name        = "${var.name}-failed-runs"
  alarm_description = "A ${var.name} run failed after all retries and waits in the ${aws_sqs_queue.dlq.name} queue."

  namespace   = "AWS/SQS"
  metric_name = "ApproximateNumberOfMessagesVisible"
  dimensions = {
    QueueName = aws_sqs_queue.dlq.name
  }

  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"

  alarm_actions = [aws_sns_topic.alarms.arn]
  ok_actions    = [aws_sns_topic.alarms.arn]
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

# Lambda could not hand a failed run to the failure queue: the run would be lost silently.
resource "aws_cloudwatch_metric_alarm" "failed_deliveries" {
  alarm_name        = "${var.name}-failed-deliveries"
  alarm_description = "Lambda could not deliver a failed ${var.name} run to the ${aws_sqs_queue.dlq.name} queue."

  namespace   = "AWS/Lambda"
  metric_name = "DestinationDeliveryFailures"
  dimensions = {
    FunctionName = aws_lambda_function.this.function_name
  }

  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"

  alarm_actions = [aws_sns_topic.alarms.arn]
  ok_actions    = [aws_sns_topic.alarms.arn]
}

# A balance assertion failed: the report contradicts a known balance (assert_balances). Not a
# Lambda error (the run succeeds and writes its report), so the Errors alarm does not see it.
# The EMF record carries AssertionFailures and RestatedDays on every run, 0 when all is well;
# a period without a run is not a failure (no-success covers that), hence notBreaching.
resource "aws_cloudwatch_metric_alarm" "assertion_failures" {
  alarm_name        = "${var.name}-assertion-failures"
  alarm_description = "A ${var.name} run's balances contradict a balance assertion (assert_balances). The report is in S3; see its assertions section."

  namespace   = "benchtest"
  metric_name = "AssertionFailures"
  dimensions = {
    FunctionName = aws_lambda_function.this.function_name
  }

  statistic           = "Maximum"
  period              = var.alarm_period
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"

  alarm_actions = [aws_sns_topic.alarms.arn]
  ok_actions    = [aws_sns_topic.alarms.arn]
}

# Past days changed since the previous scheduled run: an edited, added or removed past
# transaction, or a dropped or doubled page. Not always wrong (late postings), hence its own
# switch, alarm_on_restated_days.
resource "aws_cloudwatch_metric_alarm" "restated_days" {
  count = var.alarm_on_restated_days ? 1 : 0

  alarm_name        = "${var.name}-restated-days"
  alarm_description = "A ${var.name} run found past days whose balance changed since the previous scheduled run; see the report's changes section."

  namespace   = "benchtest"
  metric_name = "RestatedDays"
  dimensions = {
    FunctionName = aws_lambda_function.this.function_name
  }

  statistic           = "Maximum"
  period              = var.alarm_period
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"

  alarm_actions = [aws_sns_topic.alarms.arn]
  ok_actions    = [aws_sns_topic.alarms.arn]
}
