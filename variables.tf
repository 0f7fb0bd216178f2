################################################################################
# General
################################################################################

variable "name" {
  description = "Name of the function; also the prefix of every other resource name (roles, queue, alarms, schedule, report bucket)."
  type        = string
  default     = "benchtest"

  validation {
    # The strictest derived name is the report bucket's prefix "<name>-reports-": S3 allows
    # 37 characters for a bucket_prefix, lower case only. Roles "<name>-<region>-scheduler"
    # then stay well within IAM's 64.
    condition = (
      can(regex("^[a-z0-9]([a-z0-9-]{0,26}[a-z0-9])?$", var.name)) &&
      !startswith(var.name, "xn--") && !startswith(var.name, "sthree-") && !startswith(var.name, "amzn-s3-demo-")
    )
    error_message = "name must be 1-28 lower-case letters, digits and hyphens, starting and ending with a letter or digit (it prefixes the S3 bucket name), and not start with xn--, sthree- or amzn-s3-demo-."
  }
}

variable "region" {
  description = "AWS region to deploy into. null uses the provider's usual sources (AWS_REGION, AWS_DEFAULT_REGION, the profile)."
  type        = string
  default     = null

  validation {
    condition     = var.region == null || can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must look like an AWS region code, e.g. eu-west-1."
  }
}

variable "tags" {
  description = "Tags applied to every resource (through the provider's default_tags)."
  type        = map(string)
  default     = {}
}

################################################################################
# Function
################################################################################

variable "lambda_zip_path" {
  description = "Path to the deployment package built by ./build.sh. null means dist/lambda.zip next to this configuration."
  type        = string
  default     = null

  validation {
    condition     = var.lambda_zip_path == null || can(regex("\\.zip$", var.lambda_zip_path))
    error_message = "lambda_zip_path must point at a .zip file."
  }
}

variable "runtime" {
  description = "Lambda Python runtime; the package is built for it."
  type        = string
  default     = "python3.12"

  validation {
    # ./build.sh installs wheels for this Python only (its PYTHON_VERSION); a test keeps the two equal.
    condition     = contains(["python3.12"], var.runtime)
    error_message = "runtime must be python3.12, the version ./build.sh builds the package for."
  }
}

variable "architecture" {
  description = "Instruction set of the function; must match ARCH used by ./build.sh."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "memory_size" {
  description = "Memory of the function in MB. Lambda allocates CPU in proportion: 1769 MB is one vCPU, the default, so that decoding a large ledger does not wait for CPU."
  type        = number
  default     = 1769

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240 && floor(var.memory_size) == var.memory_size
    error_message = "memory_size must be a whole number of MB between 128 and 10240."
  }
}

variable "timeout" {
  description = "Maximum run time of one invocation in seconds. The fetch ends at BENCH_DEADLINE (300 s by default) or earlier, keeping back 5 s, plus the S3 calls' bound (105 s) with a bucket, plus the SSM read's (21 s) with auth_parameter_arn; the plan refuses a timeout not above that. 900 leaves the room."
  type        = number
  default     = 900

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900 && floor(var.timeout) == var.timeout
    error_message = "timeout must be a whole number of seconds between 1 and 900."
  }
}

variable "ephemeral_storage_size" {
  description = "Size of the function's /tmp in MB. A run keeps the ledger's pages there until its end, to check possible duplicates exactly (about 116 bytes a transaction in the Bench API's shape: 512 MB holds about 4.4 million)."
  type        = number
  default     = 512

  validation {
    condition     = var.ephemeral_storage_size >= 512 && var.ephemeral_storage_size <= 10240 && floor(var.ephemeral_storage_size) == var.ephemeral_storage_size
    error_message = "ephemeral_storage_size must be a whole number of MB between 512 and 10240."
  }
}

variable "reserved_concurrent_executions" {
  description = "Concurrent executions reserved for (and capped to) the function. null (default): no reservation, the function shares the account's unreserved pool. Opt in with 1 to keep runs from ever overlapping (AWS refuses it while the account's unreserved concurrency would drop below 10, as on new accounts); 0 pauses the function."
  type        = number
  default     = null

  validation {
    condition     = var.reserved_concurrent_executions == null || try(var.reserved_concurrent_executions >= 0 && floor(var.reserved_concurrent_executions) == var.reserved_concurrent_executions, false)
    error_message = "reserved_concurrent_executions must be null (no reservation) or a whole number >= 0."
  }
}

variable "api_url" {
  description = "BENCH_API_URL (required): the ledger page URL, a template containing {page} or a base ending in \"/\" ({page}.json is appended). \"sample\" deploys a demo that reports the bundled sample ledger."
  type        = string

  validation {
    # No user:password@ in the host part: credentials go in auth_parameter_arn, never a URL.
    condition = var.api_url == "sample" || (
      can(regex("^https?://[^/@\\s]+/\\S*$", var.api_url)) && (strcontains(var.api_url, "{page}") || endswith(var.api_url, "/"))
    )
    error_message = "api_url must be \"sample\" or an http(s) URL without credentials that contains {page} or ends in \"/\", e.g. https://ledger.example/transactions/{page}.json."
  }
}

variable "auth_parameter_arn" {
  description = "ARN of an SSM Parameter Store SecureString holding the API's auth header value (e.g. \"Bearer ...\"). The function reads it at start; Terraform only takes the ARN, so the secret never enters its state. null: no auth header."
  type        = string
  default     = null

  validation {
    condition     = var.auth_parameter_arn == null || can(regex("^arn:aws[a-z-]*:ssm:[a-z0-9-]+:[0-9]{12}:parameter/.+$", var.auth_parameter_arn))
    error_message = "auth_parameter_arn must be an SSM parameter ARN (arn:aws:ssm:<region>:<account>:parameter/<name>) or null."
  }
}

variable "auth_header_name" {
  description = "HTTP header that carries the value of auth_parameter_arn."
  type        = string
  default     = "Authorization"

  validation {
    condition     = can(regex("^[A-Za-z0-9!#$%&'*+.^_`|~-]+$", var.auth_header_name))
    error_message = "auth_header_name must be an HTTP header name (letters, digits and !#$%&'*+.^_`|~-)."
  }
}

variable "auth_kms_key_arn" {
  description = "Customer managed KMS key that encrypts the auth_parameter_arn SecureString (the function gets kms:Decrypt on it for that parameter only). null: the AWS managed aws/ssm key, which needs no grant."
  type        = string
  default     = null

  validation {
    condition     = var.auth_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.auth_kms_key_arn))
    error_message = "auth_kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>) or null."
  }
}

variable "assert_balances" {
  description = "Known closing balances checked on every run, { \"YYYY-MM-DD\" = \"amount\" } (BENCH_ASSERT_BALANCE). A mismatch is reported, logged at ERROR and raises the assertion-failures alarm; the run still writes its report and succeeds."
  type        = map(string)
  default     = {}

  validation {
    # The same forms benchtest.reconcile accepts: a real calendar date, a plain decimal amount.
    condition = alltrue([
      for day, amount in var.assert_balances :
      can(regex("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", day)) && can(timeadd("${day}T00:00:00Z", "0s")) &&
      can(regex("^-?[0-9]{1,60}(\\.[0-9]{1,60})?$", amount))
    ])
    error_message = "assert_balances keys must be real dates YYYY-MM-DD and values plain decimal amounts such as \"18377.16\" or \"-5.00\" (no thousands separators, no exponent, no spaces)."
  }
}

################################################################################
# Logging
################################################################################

variable "log_retention_in_days" {
  description = "Days to keep the function's logs (0 = never expire)."
  type        = number
  default     = 365

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "log_retention_in_days must be one of 0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "application_log_level" {
  description = "Lowest level of the function's own log records that Lambda keeps (JSON log format): TRACE, DEBUG or INFO."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["TRACE", "DEBUG", "INFO"], var.application_log_level)
    error_message = "application_log_level must be TRACE, DEBUG or INFO: the metric record (EMF) is a raw stderr line, which Lambda files as INFO, so WARN, ERROR or FATAL would drop it and the metrics and the no-success alarm with it."
  }
}

variable "system_log_level" {
  description = "Lowest level of Lambda's platform log records (START/END/REPORT are INFO)."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARN"], var.system_log_level)
    error_message = "system_log_level must be one of DEBUG, INFO, WARN."
  }
}

################################################################################
# Schedule
################################################################################

variable "schedule_expression" {
  description = "When the function runs: an EventBridge Scheduler cron(...) (six fields) or rate(...) expression. Default: daily at 06:00."
  type        = string
  default     = "cron(0 6 * * ? *)"

  validation {
    condition = (
      can(regex("^cron\\(([^ ()]+ ){5}[^ ()]+\\)$", var.schedule_expression)) ||
      can(regex("^rate\\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\\)$", var.schedule_expression))
    )
    error_message = "schedule_expression must be cron(minutes hours day-of-month month day-of-week year) or rate(N unit), e.g. \"cron(0 6 * * ? *)\" or \"rate(1 day)\"."
  }

  validation {
    # AWS rejects cron expressions unless day-of-month or day-of-week is "?".
    condition = !startswith(var.schedule_expression, "cron(") || try(
      contains(slice(split(" ", trimsuffix(trimprefix(var.schedule_expression, "cron("), ")")), 2, 5), "?"),
      false,
    )
    error_message = "In a cron expression, day-of-month or day-of-week must be \"?\"."
  }
}

variable "schedule_timezone" {
  description = "IANA time zone the schedule expression is evaluated in, e.g. UTC or Europe/Paris."
  type        = string
  default     = "UTC"

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2}$", var.schedule_timezone))
    error_message = "schedule_timezone must be an IANA time zone name such as UTC or America/Vancouver."
  }
}

variable "schedule_enabled" {
  description = "Whether the schedule fires; false keeps everything deployed but paused."
  type        = bool
  default     = true
}

variable "schedule_maximum_retry_attempts" {
  description = "Times EventBridge Scheduler retries handing a run to Lambda before sending it to the dead-letter queue."
  type        = number
  default     = 3

  validation {
    condition     = var.schedule_maximum_retry_attempts >= 0 && var.schedule_maximum_retry_attempts <= 185 && floor(var.schedule_maximum_retry_attempts) == var.schedule_maximum_retry_attempts
    error_message = "schedule_maximum_retry_attempts must be a whole number between 0 and 185."
  }
}

variable "schedule_maximum_event_age_in_seconds" {
  description = "How long EventBridge Scheduler keeps retrying a run it could not hand to Lambda."
  type        = number
  default     = 3600

  validation {
    condition     = var.schedule_maximum_event_age_in_seconds >= 60 && var.schedule_maximum_event_age_in_seconds <= 86400 && floor(var.schedule_maximum_event_age_in_seconds) == var.schedule_maximum_event_age_in_seconds
    error_message = "schedule_maximum_event_age_in_seconds must be a whole number between 60 and 86400."
  }
}

################################################################################
# Asynchronous invocation (retries of failed runs, on-failure destination)
################################################################################

variable "maximum_retry_attempts" {
  description = "Times Lambda retries a failed asynchronous (scheduled) run before sending it to the failure queue."
  type        = number
  default     = 2

  validation {
    condition     = contains([0, 1, 2], var.maximum_retry_attempts)
    error_message = "maximum_retry_attempts must be 0, 1 or 2."
  }
}

variable "maximum_event_age_in_seconds" {
  description = "How long Lambda keeps a queued asynchronous run (including retries) before sending it to the failure queue."
  type        = number
  default     = 21600

  validation {
    condition     = var.maximum_event_age_in_seconds >= 60 && var.maximum_event_age_in_seconds <= 21600 && floor(var.maximum_event_age_in_seconds) == var.maximum_event_age_in_seconds
    error_message = "maximum_event_age_in_seconds must be a whole number between 60 and 21600."
  }
}

variable "dlq_message_retention_seconds" {
  description = "How long failed runs stay in the dead-letter queue."
  type        = number
  default     = 1209600

  validation {
    condition     = var.dlq_message_retention_seconds >= 60 && var.dlq_message_retention_seconds <= 1209600 && floor(var.dlq_message_retention_seconds) == var.dlq_message_retention_seconds
    error_message = "dlq_message_retention_seconds must be a whole number between 60 and 1209600 (14 days)."
  }
}

################################################################################
# Alarms
################################################################################

variable "alarm_email" {
  description = "E-mail address subscribed to the alarm topic (the address must confirm the subscription). null subscribes nobody."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_email == null || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alarm_email))
    error_message = "alarm_email must be an e-mail address or null."
  }
}

variable "success_alarm_period" {
  description = "Seconds without a successful scheduled run (EMF metric ScheduledSuccess) before the no-success alarm fires. null: the longest time between two scheduled runs plus 2 hours (one for the run and its metric, one for a daylight-saving day), computed for rate(...) and for cron(...) on every day or on days of the week; required for a cron whose days depend on the month or year. Rounded up to whole hours."
  type        = number
  default     = null

  validation {
    condition     = var.success_alarm_period == null || try(var.success_alarm_period >= 3600 && var.success_alarm_period <= 604800 && var.success_alarm_period % 60 == 0, false)
    error_message = "success_alarm_period must be a multiple of 60 seconds between 3600 and 604800 (7 days, CloudWatch's longest alarm window), or null."
  }
}

variable "alarm_on_restated_days" {
  description = "Alarm (<name>-restated-days) when a run finds restated days: past days whose own change differs since the previous scheduled run (not the later days that only carry it). Often worth a look, not always wrong (late postings), hence its own switch."
  type        = bool
  default     = true
}

variable "alarm_period" {
  description = "Period in seconds over which the event alarms (Errors, assertion failures, comparison failures, restated days) look at their metric: a multiple of 60, at most 7 days."
  type        = number
  default     = 300

  validation {
    condition     = var.alarm_period >= 60 && var.alarm_period <= 604800 && var.alarm_period % 60 == 0
    error_message = "alarm_period must be a multiple of 60 seconds between 60 and 604800 (7 days, CloudWatch's longest alarm window: its alarms evaluate one period)."
  }
}

################################################################################
# Reports (S3)
################################################################################

variable "create_report_bucket" {
  description = "Create the report bucket (encrypted, private, versioned, with a lifecycle rule). If false, reports go to report_bucket_name when set, and are disabled when it is null."
  type        = bool
  default     = false
}

variable "report_bucket_name" {
  description = "Name of the report bucket: the one to create (null = generated name) or an existing bucket (create_report_bucket = false). null with create_report_bucket = false disables reports."
  type        = string
  default     = null

  validation {
    condition     = var.report_bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.report_bucket_name))
    error_message = "report_bucket_name must be a valid S3 bucket name (3-63 lower-case letters, digits, dots, hyphens)."
  }
}

variable "report_prefix" {
  description = "Key prefix of the reports: <prefix>/YYYY/MM/DD/run-…/balances.{json,csv,html} per scheduled run, <prefix>/manual/run-…/ per manual run, <prefix>/latest/ for the newest scheduled run; the function may write nowhere else."
  type        = string
  default     = "reports"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$", var.report_prefix))
    error_message = "report_prefix must be non-empty path segments of letters, digits, '_', '.', '-' separated by '/', without leading or trailing '/'."
  }

  # The function's own check (benchtest.storage.check_prefix) refuses these at start-up, so
  # every invocation would fail.
  validation {
    condition     = alltrue([for part in split("/", var.report_prefix) : !contains([".", ".."], part)])
    error_message = "report_prefix may not have '.' or '..' segments."
  }

  validation {
    condition     = length(var.report_prefix) <= 512
    error_message = "report_prefix must be at most 512 characters (S3 keys are at most 1024 bytes)."
  }
}

variable "report_kms_key_arn" {
  description = "Customer managed KMS key the reports are encrypted with (REPORT_KMS_KEY_ID); the function gets kms:GenerateDataKey and kms:Decrypt on it, and a created bucket uses it as its default key. null: the AWS managed aws/s3 key."
  type        = string
  default     = null

  validation {
    condition     = var.report_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.report_kms_key_arn))
    error_message = "report_kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>) or null."
  }
}

variable "report_noncurrent_version_expiration_days" {
  description = "Days after which overwritten (noncurrent) report versions are deleted in a created bucket."
  type        = number
  default     = 90

  validation {
    condition     = var.report_noncurrent_version_expiration_days >= 1 && floor(var.report_noncurrent_version_expiration_days) == var.report_noncurrent_version_expiration_days
    error_message = "report_noncurrent_version_expiration_days must be a whole number >= 1."
  }
}

variable "report_expiration_days" {
  description = "Days after which reports are deleted from a created bucket. null keeps them."
  type        = number
  default     = null

  validation {
    condition     = var.report_expiration_days == null || try(var.report_expiration_days >= 1 && floor(var.report_expiration_days) == var.report_expiration_days, false)
    error_message = "report_expiration_days must be a whole number >= 1 or null."
  }
}

variable "keep_pages" {
  description = "Keep each run's pages (docs/pages-file.md) in its S3 folder beside its reports, a failed run's too."
  type        = bool
  default     = true
}

variable "pages_expiration_days" {
  description = "Days after which kept pages are deleted from a created bucket (null keeps them). S3 honours the shorter of this and report_expiration_days."
  type        = number
  default     = 400

  validation {
    condition     = var.pages_expiration_days == null || try(var.pages_expiration_days >= 1 && floor(var.pages_expiration_days) == var.pages_expiration_days, false)
    error_message = "pages_expiration_days must be a whole number >= 1 or null."
  }
}

variable "report_bucket_force_destroy" {
  description = "Let `terraform destroy` delete a created report bucket that still holds reports."
  type        = bool
  default     = false
}
