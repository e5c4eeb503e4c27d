variable "name" {
  description = "Name prefix of every resource (e.g. mindlinks-prod)."
  type        = string
}

variable "resource_prefix" {
  description = "Prefix of the physical names the services compute (MINDLINKS_RESOURCE_PREFIX)."
  type        = string
}

variable "environment" {
  type = string
}

variable "public_base_url" {
  type = string
}

variable "services" {
  description = "The fleet's services (generated fleet.auto.tfvars.json)."
  type = map(object({
    secrets = map(string)
  }))
}

variable "signing_keys" {
  description = "<service>-<name> => the service that alone signs with it and its certificates secret (generated)."
  type = map(object({
    service             = string
    certificates_secret = string
  }))
  default = {}
}

variable "secret_versions" {
  description = "Bump a value to write a new random value (service secrets, cursor secret) or a new first signing key. Write-only: no value is ever in the state."
  type = object({
    service      = optional(number, 1)
    cursor       = optional(number, 1)
    signing_keys = optional(number, 1)
  })
  default = {}
}

variable "deletion_window_days" {
  type    = number
  default = 30
}
