# bash completion for sscma, the command line of libsscma (docs/cli.md, man sscma).
# Installed by meson into bash-completion's completions directory as "sscma"; or: source tools/completion/sscma.bash
# Needs nothing of the bash-completion package. tests/cli/test_man_completion.py keeps the options here equal to
# tools/sscma/main.c's.

# Options of each command, as `sscma COMMAND --help` lists them, plus the common --help, --quiet and --threads.
_sscma_common='--help -h --quiet -q --threads'
_sscma_opts_train='--work-dir --cfg-options --resume --json'
_sscma_opts_eval='--cfg-options --split --json'
_sscma_opts_export='--format --precision --calib --observer --qat-epochs --verify --out -o --accelerator-config --cfg-options --json'
_sscma_opts_infer='--json --draw --topk --threshold --iou --task --classes'
_sscma_opts_info='--cfg-options --json'
_sscma_opts_prune='--out -o --ratio --criterion --global --round-to --layer-ratio --prune-first --prune-last --prune-head --cfg-options --json'
_sscma_opts_dataset='--split --cfg-options --json --from --out -o --count --seed'
_sscma_opts_config='-o --out --strict --raw --help -h'

# Files with one of the extensions ($2...), and directories, completing $1.
_sscma_files()
{
    local cur=$1 ext
    shift
    compopt -o filenames 2>/dev/null
    COMPREPLY+=($(compgen -d -- "$cur"))
    for ext in "$@"; do
        COMPREPLY+=($(compgen -f -X "!*.$ext" -- "$cur"))
    done
}

_sscma()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local cmd=${COMP_WORDS[1]} i positional=0 sub=
    COMPREPLY=()

    if ((COMP_CWORD == 1)); then
        COMPREPLY=($(compgen -W 'train eval export infer info prune dataset config help --version --help -h' -- "$cur"))
        return 0
    fi

    # the value of an option
    case $prev in
        --format) COMPREPLY=($(compgen -W 'onnx tflite c vela' -- "$cur")); return 0 ;;
        --accelerator-config)
            COMPREPLY=($(compgen -W 'ethos-u55-32 ethos-u55-64 ethos-u55-128 ethos-u55-256 ethos-u65-256 ethos-u65-512
                ethos-u85-128 ethos-u85-256 ethos-u85-512 ethos-u85-1024 ethos-u85-2048' -- "$cur")); return 0 ;;
        --precision) COMPREPLY=($(compgen -W 'float32 int8' -- "$cur")); return 0 ;;
        --observer) COMPREPLY=($(compgen -W 'minmax moving-average percentile' -- "$cur")); return 0 ;;
        --task) COMPREPLY=($(compgen -W 'cls fomo pfld yolo rtmdet' -- "$cur")); return 0 ;;
        --criterion) COMPREPLY=($(compgen -W 'l1 l2 bn_scale fpgm' -- "$cur")); return 0 ;;
        --split)
            if [[ $cmd == eval ]]; then
                COMPREPLY=($(compgen -W 'val test' -- "$cur"))
            else
                COMPREPLY=($(compgen -W 'train val test' -- "$cur"))
            fi
            return 0 ;;
        --work-dir) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur")); return 0 ;;
        --draw) _sscma_files "$cur" png; return 0 ;;
        --resume) [[ $cur != -* ]] && { _sscma_files "$cur" ckpt; return 0; } ;;
        --from) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")); return 0 ;;
        --out | -o)
            case $cmd in
                dataset | prune) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur")) ;;
                config) _sscma_files "$cur" json ;;
                *) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")) ;;
            esac
            return 0 ;;
        --threads | --calib | --qat-epochs | --count | --seed | --topk | --threshold | --iou | --classes | \
            --ratio | --round-to | --layer-ratio)
            return 0 ;;  # a number or names: nothing to offer
    esac

    # the positional arguments before this word, as tools/sscma/main.c reads the line: option values skipped, and
    # every word after --cfg-options up to the next --option is a KEY=VALUE
    local in_overrides=0 w
    for ((i = 2; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        if ((in_overrides)) && [[ $w != --* ]]; then
            continue
        fi
        in_overrides=0
        case $w in
            --cfg-options) in_overrides=1 ;;
            --work-dir | --out | -o | --format | --accelerator-config | --precision | --calib | --observer | --qat-epochs | \
                --split | --draw | \
                --from | --task | --classes | --threshold | --iou | --threads | --count | --seed | --topk | \
                --ratio | --criterion | --round-to | --layer-ratio)
                ((i++)) ;;
            --resume)  # an optional value: anything but an option or a .json config
                w=${COMP_WORDS[i+1]}
                if ((i + 1 < COMP_CWORD)) && [[ $w != --* && $w != *.json ]]; then ((i++)); fi ;;
            -*) ;;
            *) [[ -z $sub && ( $cmd == dataset || $cmd == config ) ]] && sub=$w
               positional=$((positional + 1)) ;;
        esac
    done
    if ((in_overrides)) && [[ $cur != --* ]]; then
        return 0  # a KEY=VALUE of --cfg-options
    fi

    if [[ $cur == -* ]]; then
        local opts
        case $cmd in
            train | eval | export | infer | info | prune | dataset) opts="_sscma_opts_$cmd"; opts="${!opts} $_sscma_common" ;;
            config) opts=$_sscma_opts_config ;;
            *) return 0 ;;
        esac
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        return 0
    fi
    case $cmd in
        train) _sscma_files "$cur" json ;;
        info) _sscma_files "$cur" json tflite ;;
        eval | export)
            if ((positional == 0)); then _sscma_files "$cur" json; else _sscma_files "$cur" ckpt tflite; fi ;;
        prune)
            if ((positional == 0)); then _sscma_files "$cur" json; else _sscma_files "$cur" ckpt; fi ;;
        infer) _sscma_files "$cur" json ckpt tflite png jpg jpeg bmp PNG JPG JPEG BMP ;;
        dataset)
            if ((positional == 0)); then
                COMPREPLY=($(compgen -W 'check stats compose' -- "$cur"))
            elif [[ $sub != compose ]]; then
                _sscma_files "$cur" json
            fi ;;
        config)
            if ((positional == 0)); then
                COMPREPLY=($(compgen -W 'convert' -- "$cur"))
            else
                _sscma_files "$cur" py
            fi ;;
        help) COMPREPLY=($(compgen -W 'train eval export infer info prune dataset config' -- "$cur")) ;;
    esac
    return 0
}

complete -F _sscma sscma
