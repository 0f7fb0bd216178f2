output "function_name" {
  description = "Name of the Lambda function (for `aws lambda invoke --function-name`)."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the Lambda function."
  value       = aws_lambda_function.this.arn
}

output "lambda_role_arn" {
  description = "ARN of the function's execution role."
  value       = aws_iam_role.lambda.arn
}

output "lambda_role_name" {
  description = "Name of the function's execution role."
  value       = aws_iam_role.lambda.name
}

output "scheduler_role_arn" {
  description = "ARN of the role EventBridge Scheduler uses to invoke the function."
  value       = aws_iam_role.scheduler.arn
}

output "schedule_name" {
  description = "Name of the EventBridge Scheduler schedule."
  value       = aws_scheduler_schedule.this.name
}

output "schedule_group_name" {
  description = "Schedule group holding the schedule."
  value       = aws_scheduler_schedule_group.this.name
}

output "schedule_arn" {
  description = "ARN of the EventBridge Scheduler schedule."
  value       = aws_scheduler_schedule.this.arn
}

output "schedule_expression" {
  description = "When the function runs, and in which time zone."
  value       = "${aws_scheduler_schedule.this.schedule_expression} (${aws_scheduler_schedule.this.schedule_expression_timezone})"
}

output "log_group_name" {
  description = "CloudWatch log group the function writes its JSON logs to."
  value       = aws_cloudwatch_log_group.lambda.name
}

output "log_group_arn" {
  description = "ARN of the function's log group."
  value       = aws_cloudwatch_log_group.lambda.arn
}

output "dlq_url" {
  description = "URL of the SQS queue holding failed runs (scheduler dead letters and Lambda on-failure events)."
  value       = aws_sqs_queue.dlq.id
}

output "dlq_arn" {
  description = "ARN of the failed-runs SQS queue."
  value       = aws_sqs_queue.dlq.arn
}

output "alarm_topic_arn" {
  description = "SNS topic the alarms notify; subscribe further endpoints to it."
  value       = aws_sns_topic.alarms.arn
}

output "alarm_names" {
  description = "CloudWatch alarms: function errors, each run sent to the failure queue, runs that could not be delivered to it, no successful scheduled run within the longest gap between runs, failed balance assertions, empty ledgers, comparisons with latest/ that failed and (unless alarm_on_restated_days = false) restated days."
  value = merge(
    { for key, alarm in aws_cloudwatch_metric_alarm.event : key => alarm.alarm_name },
    { no_success = aws_cloudwatch_metric_alarm.no_success.alarm_name },
  )
}

output "no_success_alarm_period" {
  description = "Seconds without a successful scheduled run before the no-success alarm fires (whole hours)."
  value       = aws_cloudwatch_metric_alarm.no_success.period * aws_cloudwatch_metric_alarm.no_success.evaluation_periods
}

output "report_bucket_name" {
  description = "Bucket the reports are written to (null when reports are disabled)."
  value       = local.reports_enabled ? local.report_bucket_name : null
}

output "report_bucket_arn" {
  description = "ARN of the report bucket (null when reports are disabled)."
  value       = local.reports_enabled ? "arn:${local.partition}:s3:::${local.report_bucket_name}" : null
}

output "report_location" {
  description = "Where reports land: s3://<bucket>/<prefix>/latest/balances.{json,csv,html} holds the newest scheduled run's report; each run has its own folder <prefix>/YYYY/MM/DD/run-…/ (manual runs <prefix>/manual/run-…/). null when reports are disabled."
  value       = local.reports_enabled ? "s3://${local.report_bucket_name}/${var.report_prefix}/latest/" : null
}
