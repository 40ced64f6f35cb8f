// Code generated - DO NOT EDIT.
// This file is a generated binding and any manual changes will be lost.

package contracts

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"time"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/event"
)

// Reference imports to suppress errors if they are not otherwise used.
var (
	_ = errors.New
	_ = big.NewInt
	_ = strings.NewReader
	_ = ethereum.NotFound
	_ = bind.Bind
	_ = common.Big1
	_ = types.BloomLookup
	_ = event.NewSubscription
	_ = abi.ConvertType
	_ = time.Tick
	_ = context.Background
)

// BondingManagerMetaData contains all meta data concerning the BondingManager contract.
var BondingManagerMetaData = &bind.MetaData{
	ABI: "[{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"transcoder\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"bool\",\"name\":\"active\",\"type\":\"bool\"}],\"name\":\"TranscoderActivated\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"poolSize\",\"type\":\"uint256\"}],\"name\":\"TranscoderPoolSizeSet\",\"type\":\"event\"},{\"inputs\":[],\"name\":\"getTranscoderPoolSize\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"transcoder\",\"type\":\"address\"}],\"name\":\"isActiveTranscoder\",\"outputs\":[{\"internalType\":\"bool\",\"name\":\"\",\"type\":\"bool\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"owner\",\"outputs\":[{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"transcoder\",\"type\":\"address\"},{\"internalType\":\"bool\",\"name\":\"isActive\",\"type\":\"bool\"}],\"name\":\"setActiveTranscoder\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"size\",\"type\":\"uint256\"}],\"name\":\"setTranscoderPoolSize\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"}]",
	Bin: "0x60a0604052348015600e575f5ffd5b50336080526080516103d66100385f395f818160d70152818161011c01526101ce01526103d65ff3fe608060405234801561000f575f5ffd5b5060043610610055575f3560e01c806308802374146100595780631a175746146100995780632a4e0d55146100ae5780634a3879ed146100bf5780638da5cb5b146100d2575b5f5ffd5b610084610067366004610326565b6001600160a01b03165f9081526020819052604090205460ff1690565b60405190151581526020015b60405180910390f35b6100ac6100a7366004610346565b610111565b005b600154604051908152602001610090565b6100ac6100cd36600461035d565b6101c3565b6100f97f000000000000000000000000000000000000000000000000000000000000000081565b6040516001600160a01b039091168152602001610090565b336001600160a01b037f000000000000000000000000000000000000000000000000000000000000000016146101885760405162461bcd60e51b815260206004820152601760248201527631b0b63632b91034b9903737ba103a34329037bbb732b960491b60448201526064015b60405180910390fd5b60018190556040518181527f31e0c8e4f82d68ec1a03f18cdcc8436f19ab11ded42129483611682bde8c4ebe9060200160405180910390a150565b336001600160a01b037f000000000000000000000000000000000000000000000000000000000000000016146102355760405162461bcd60e51b815260206004820152601760248201527631b0b63632b91034b9903737ba103a34329037bbb732b960491b604482015260640161017f565b6001600160a01b0382165f9081526020819052604090205460ff16151581151514610307576001600160a01b0382165f908152602081905260409020805460ff191682158015919091179091556102a2576001805f82825461029791906103aa565b909155506102c19050565b600154156102c1576001805f8282546102bb91906103c3565b90915550505b816001600160a01b03167fc2332d2ebda017d2abb3de1f3bfb187112713d1ff423f0a8e1c96ec1927acf18826040516102fe911515815260200190565b60405180910390a25b5050565b80356001600160a01b0381168114610321575f5ffd5b919050565b5f60208284031215610336575f5ffd5b61033f8261030b565b9392505050565b5f60208284031215610356575f5ffd5b5035919050565b5f5f6040838503121561036e575f5ffd5b6103778361030b565b91506020830135801515811461038b575f5ffd5b809150509250929050565b634e487b7160e01b5f52601160045260245ffd5b808201808211156103bd576103bd610396565b92915050565b818103818111156103bd576103bd61039656",
}

// BondingManagerABI is the input ABI used to generate the binding from.
// Deprecated: Use BondingManagerMetaData.ABI instead.
var BondingManagerABI = BondingManagerMetaData.ABI

// BondingManagerBin is the compiled bytecode used for deploying new contracts.
// Deprecated: Use BondingManagerMetaData.Bin instead.
var BondingManagerBin = BondingManagerMetaData.Bin

// DeployBondingManager deploys a new Ethereum contract, binding an instance of BondingManager to it.
func DeployBondingManager(auth *bind.TransactOpts, backend bind.ContractBackend) (common.Address, *types.Transaction, *BondingManager, error) {
	parsed, err := BondingManagerMetaData.GetAbi()
	if err != nil {
		return common.Address{}, nil, nil, err
	}
	if parsed == nil {
		return common.Address{}, nil, nil, errors.New("GetABI returned nil")
	}

	address, tx, contract, err := bind.DeployContract(auth, *parsed, common.FromHex(BondingManagerBin), backend)
	if err != nil {
		return common.Address{}, nil, nil, err
	}
	return address, tx, &BondingManager{BondingManagerCaller: BondingManagerCaller{contract: contract}, BondingManagerTransactor: BondingManagerTransactor{contract: contract}, BondingManagerFilterer: BondingManagerFilterer{contract: contract}}, nil
}

// BondingManager is an auto generated Go binding around an Ethereum contract.
type BondingManager struct {
	BondingManagerCaller     // Read-only binding to the contract
	BondingManagerTransactor // Write-only binding to the contract
	BondingManagerFilterer   // Log filterer for contract events
}

// BondingManagerCaller is an auto generated read-only Go binding around an Ethereum contract.
type BondingManagerCaller struct {
	contract *bind.BoundContract // Generic contract wrapper for the low level calls
}

// BondingManagerTransactor is an auto generated write-only Go binding around an Ethereum contract.
type BondingManagerTransactor struct {
	contract *bind.BoundContract // Generic contract wrapper for the low level calls
}

// BondingManagerFilterer is an auto generated log filtering Go binding around an Ethereum contract events.
type BondingManagerFilterer struct {
	contract *bind.BoundContract // Generic contract wrapper for the low level calls
}

// BondingManagerSession is an auto generated Go binding around an Ethereum contract,
// with pre-set call and transact options.
type BondingManagerSession struct {
	Contract     *BondingManager   // Generic contract binding to set the session for
	CallOpts     bind.CallOpts     // Call options to use throughout this session
	TransactOpts bind.TransactOpts // Transaction auth options to use throughout this session
}

// BondingManagerCallerSession is an auto generated read-only Go binding around an Ethereum contract,
// with pre-set call options.
type BondingManagerCallerSession struct {
	Contract *BondingManagerCaller // Generic contract caller binding to set the session for
	CallOpts bind.CallOpts         // Call options to use throughout this session
}

// BondingManagerTransactorSession is an auto generated write-only Go binding around an Ethereum contract,
// with pre-set transact options.
type BondingManagerTransactorSession struct {
	Contract     *BondingManagerTransactor // Generic contract transactor binding to set the session for
	TransactOpts bind.TransactOpts         // Transaction auth options to use throughout this session
}

// BondingManagerRaw is an auto generated low-level Go binding around an Ethereum contract.
type BondingManagerRaw struct {
	Contract *BondingManager // Generic contract binding to access the raw methods on
}

// BondingManagerCallerRaw is an auto generated low-level read-only Go binding around an Ethereum contract.
type BondingManagerCallerRaw struct {
	Contract *BondingManagerCaller // Generic read-only contract binding to access the raw methods on
}

// BondingManagerTransactorRaw is an auto generated low-level write-only Go binding around an Ethereum contract.
type BondingManagerTransactorRaw struct {
	Contract *BondingManagerTransactor // Generic write-only contract binding to access the raw methods on
}

// NewBondingManager creates a new instance of BondingManager, bound to a specific deployed contract.
func NewBondingManager(address common.Address, backend bind.ContractBackend) (*BondingManager, error) {
	contract, err := bindBondingManager(address, backend, backend, backend)
	if err != nil {
		return nil, err
	}
	return &BondingManager{BondingManagerCaller: BondingManagerCaller{contract: contract}, BondingManagerTransactor: BondingManagerTransactor{contract: contract}, BondingManagerFilterer: BondingManagerFilterer{contract: contract}}, nil
}

// NewBondingManagerCaller creates a new read-only instance of BondingManager, bound to a specific deployed contract.
func NewBondingManagerCaller(address common.Address, caller bind.ContractCaller) (*BondingManagerCaller, error) {
	contract, err := bindBondingManager(address, caller, nil, nil)
	if err != nil {
		return nil, err
	}
	return &BondingManagerCaller{contract: contract}, nil
}

// NewBondingManagerTransactor creates a new write-only instance of BondingManager, bound to a specific deployed contract.
func NewBondingManagerTransactor(address common.Address, transactor bind.ContractTransactor) (*BondingManagerTransactor, error) {
	contract, err := bindBondingManager(address, nil, transactor, nil)
	if err != nil {
		return nil, err
	}
	return &BondingManagerTransactor{contract: contract}, nil
}

// NewBondingManagerFilterer creates a new log filterer instance of BondingManager, bound to a specific deployed contract.
func NewBondingManagerFilterer(address common.Address, filterer bind.ContractFilterer) (*BondingManagerFilterer, error) {
	contract, err := bindBondingManager(address, nil, nil, filterer)
	if err != nil {
		return nil, err
	}
	return &BondingManagerFilterer{contract: contract}, nil
}

// bindBondingManager binds a generic wrapper to an already deployed contract.
func bindBondingManager(address common.Address, caller bind.ContractCaller, transactor bind.ContractTransactor, filterer bind.ContractFilterer) (*bind.BoundContract, error) {
	parsed, err := BondingManagerMetaData.GetAbi()
	if err != nil {
		return nil, err
	}
	return bind.NewBoundContract(address, *parsed, caller, transactor, filterer), nil
}

// Call invokes the (constant) contract method with params as input values and
// sets the output to result. The result type might be a single field for simple
// returns, a slice of interfaces for anonymous returns and a struct for named
// returns.
func (_BondingManager *BondingManagerRaw) Call(opts *bind.CallOpts, result *[]interface{}, method string, params ...interface{}) error {
	return _BondingManager.Contract.BondingManagerCaller.contract.Call(opts, result, method, params...)
}

// Transfer initiates a plain transaction to move funds to the contract, calling
// its default method if one is available.
func (_BondingManager *BondingManagerRaw) Transfer(opts *bind.TransactOpts) (*types.Transaction, error) {
	return _BondingManager.Contract.BondingManagerTransactor.contract.Transfer(opts)
}

// Transact invokes the (paid) contract method with params as input values.
func (_BondingManager *BondingManagerRaw) Transact(opts *bind.TransactOpts, method string, params ...interface{}) (*types.Transaction, error) {
	return _BondingManager.Contract.BondingManagerTransactor.contract.Transact(opts, method, params...)
}

// Call invokes the (constant) contract method with params as input values and
// sets the output to result. The result type might be a single field for simple
// returns, a slice of interfaces for anonymous returns and a struct for named
// returns.
func (_BondingManager *BondingManagerCallerRaw) Call(opts *bind.CallOpts, result *[]interface{}, method string, params ...interface{}) error {
	return _BondingManager.Contract.contract.Call(opts, result, method, params...)
}

// Transfer initiates a plain transaction to move funds to the contract, calling
// its default method if one is available.
func (_BondingManager *BondingManagerTransactorRaw) Transfer(opts *bind.TransactOpts) (*types.Transaction, error) {
	return _BondingManager.Contract.contract.Transfer(opts)
}

// Transact invokes the (paid) contract method with params as input values.
func (_BondingManager *BondingManagerTransactorRaw) Transact(opts *bind.TransactOpts, method string, params ...interface{}) (*types.Transaction, error) {
	return _BondingManager.Contract.contract.Transact(opts, method, params...)
}

// GetTranscoderPoolSize is a free data retrieval call binding the contract method 0x2a4e0d55.
//
// Solidity: function getTranscoderPoolSize() view returns(uint256)
func (_BondingManager *BondingManagerCaller) GetTranscoderPoolSize(opts *bind.CallOpts) (*big.Int, error) {
	var out []interface{}
	err := _BondingManager.contract.Call(opts, &out, "getTranscoderPoolSize")

	if err != nil {
		return *new(*big.Int), err
	}

	out0 := *abi.ConvertType(out[0], new(*big.Int)).(**big.Int)

	return out0, err

}

// GetTranscoderPoolSize is a free data retrieval call binding the contract method 0x2a4e0d55.
//
// Solidity: function getTranscoderPoolSize() view returns(uint256)
func (_BondingManager *BondingManagerSession) GetTranscoderPoolSize() (*big.Int, error) {
	return _BondingManager.Contract.GetTranscoderPoolSize(&_BondingManager.CallOpts)
}

// GetTranscoderPoolSize is a free data retrieval call binding the contract method 0x2a4e0d55.
//
// Solidity: function getTranscoderPoolSize() view returns(uint256)
func (_BondingManager *BondingManagerCallerSession) GetTranscoderPoolSize() (*big.Int, error) {
	return _BondingManager.Contract.GetTranscoderPoolSize(&_BondingManager.CallOpts)
}

// IsActiveTranscoder is a free data retrieval call binding the contract method 0x08802374.
//
// Solidity: function isActiveTranscoder(address transcoder) view returns(bool)
func (_BondingManager *BondingManagerCaller) IsActiveTranscoder(opts *bind.CallOpts, transcoder common.Address) (bool, error) {
	var out []interface{}
	err := _BondingManager.contract.Call(opts, &out, "isActiveTranscoder", transcoder)

	if err != nil {
		return *new(bool), err
	}

	out0 := *abi.ConvertType(out[0], new(bool)).(*bool)

	return out0, err

}

// IsActiveTranscoder is a free data retrieval call binding the contract method 0x08802374.
//
// Solidity: function isActiveTranscoder(address transcoder) view returns(bool)
func (_BondingManager *BondingManagerSession) IsActiveTranscoder(transcoder common.Address) (bool, error) {
	return _BondingManager.Contract.IsActiveTranscoder(&_BondingManager.CallOpts, transcoder)
}

// IsActiveTranscoder is a free data retrieval call binding the contract method 0x08802374.
//
// Solidity: function isActiveTranscoder(address transcoder) view returns(bool)
func (_BondingManager *BondingManagerCallerSession) IsActiveTranscoder(transcoder common.Address) (bool, error) {
	return _BondingManager.Contract.IsActiveTranscoder(&_BondingManager.CallOpts, transcoder)
}

// Owner is a free data retrieval call binding the contract method 0x8da5cb5b.
//
// Solidity: function owner() view returns(address)
func (_BondingManager *BondingManagerCaller) Owner(opts *bind.CallOpts) (common.Address, error) {
	var out []interface{}
	err := _BondingManager.contract.Call(opts, &out, "owner")

	if err != nil {
		return *new(common.Address), err
	}

	out0 := *abi.ConvertType(out[0], new(common.Address)).(*common.Address)

	return out0, err

}

// Owner is a free data retrieval call binding the contract method 0x8da5cb5b.
//
// Solidity: function owner() view returns(address)
func (_BondingManager *BondingManagerSession) Owner() (common.Address, error) {
	return _BondingManager.Contract.Owner(&_BondingManager.CallOpts)
}

// Owner is a free data retrieval call binding the contract method 0x8da5cb5b.
//
// Solidity: function owner() view returns(address)
func (_BondingManager *BondingManagerCallerSession) Owner() (common.Address, error) {
	return _BondingManager.Contract.Owner(&_BondingManager.CallOpts)
}

// SetActiveTranscoder is a paid mutator transaction binding the contract method 0x4a3879ed.
//
// Solidity: function setActiveTranscoder(address transcoder, bool isActive) returns()
func (_BondingManager *BondingManagerTransactor) SetActiveTranscoder(opts *bind.TransactOpts, transcoder common.Address, isActive bool) (*types.Transaction, error) {
	return _BondingManager.contract.Transact(opts, "setActiveTranscoder", transcoder, isActive)
}

// SetActiveTranscoder is a paid mutator transaction binding the contract method 0x4a3879ed.
//
// Solidity: function setActiveTranscoder(address transcoder, bool isActive) returns()
func (_BondingManager *BondingManagerSession) SetActiveTranscoder(transcoder common.Address, isActive bool) (*types.Transaction, error) {
	return _BondingManager.Contract.SetActiveTranscoder(&_BondingManager.TransactOpts, transcoder, isActive)
}

// SetActiveTranscoder is a paid mutator transaction binding the contract method 0x4a3879ed.
//
// Solidity: function setActiveTranscoder(address transcoder, bool isActive) returns()
func (_BondingManager *BondingManagerTransactorSession) SetActiveTranscoder(transcoder common.Address, isActive bool) (*types.Transaction, error) {
	return _BondingManager.Contract.SetActiveTranscoder(&_BondingManager.TransactOpts, transcoder, isActive)
}

// SetTranscoderPoolSize is a paid mutator transaction binding the contract method 0x1a175746.
//
// Solidity: function setTranscoderPoolSize(uint256 size) returns()
func (_BondingManager *BondingManagerTransactor) SetTranscoderPoolSize(opts *bind.TransactOpts, size *big.Int) (*types.Transaction, error) {
	return _BondingManager.contract.Transact(opts, "setTranscoderPoolSize", size)
}

// SetTranscoderPoolSize is a paid mutator transaction binding the contract method 0x1a175746.
//
// Solidity: function setTranscoderPoolSize(uint256 size) returns()
func (_BondingManager *BondingManagerSession) SetTranscoderPoolSize(size *big.Int) (*types.Transaction, error) {
	return _BondingManager.Contract.SetTranscoderPoolSize(&_BondingManager.TransactOpts, size)
}

// SetTranscoderPoolSize is a paid mutator transaction binding the contract method 0x1a175746.
//
// Solidity: function setTranscoderPoolSize(uint256 size) returns()
func (_BondingManager *BondingManagerTransactorSession) SetTranscoderPoolSize(size *big.Int) (*types.Transaction, error) {
	return _BondingManager.Contract.SetTranscoderPoolSize(&_BondingManager.TransactOpts, size)
}

// BondingManagerTranscoderActivatedIterator is returned from FilterTranscoderActivated and is used to iterate over the raw logs and unpacked data for TranscoderActivated events raised by the BondingManager contract.
type BondingManagerTranscoderActivatedIterator struct {
	Event *BondingManagerTranscoderActivated // Event containing the contract specifics and raw log

	contract *bind.BoundContract // Generic contract to use for unpacking event data
	event    string              // Event name to use for unpacking event data

	logs chan types.Log        // Log channel receiving the found contract events
	sub  ethereum.Subscription // Subscription for errors, completion and termination
	done bool                  // Whether the subscription completed delivering logs
	fail error                 // Occurred error to stop iteration
}

// Next advances the iterator to the subsequent event, returning whether there
// are any more events found. In case of a retrieval or parsing error, false is
// returned and Error() can be queried for the exact failure.
func (it *BondingManagerTranscoderActivatedIterator) Next() bool {
	// If the iterator failed, stop iterating
	if it.fail != nil {
		return false
	}
	// If the iterator completed, deliver directly whatever's available
	if it.done {
		select {
		case log := <-it.logs:
			it.Event = new(BondingManagerTranscoderActivated)
			if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
				it.fail = err
				return false
			}
			it.Event.Raw = log
			return true

		default:
			return false
		}
	}
	// Iterator still in progress, wait for either a data or an error event
	select {
	case log := <-it.logs:
		it.Event = new(BondingManagerTranscoderActivated)
		if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
			it.fail = err
			return false
		}
		it.Event.Raw = log
		return true

	case err := <-it.sub.Err():
		it.done = true
		it.fail = err
		return it.Next()
	}
}

// Error returns any retrieval or parsing error occurred during filtering.
func (it *BondingManagerTranscoderActivatedIterator) Error() error {
	return it.fail
}

// Close terminates the iteration process, releasing any pending underlying
// resources.
func (it *BondingManagerTranscoderActivatedIterator) Close() error {
	it.sub.Unsubscribe()
	return nil
}

// BondingManagerTranscoderActivated represents a TranscoderActivated event raised by the BondingManager contract.
type BondingManagerTranscoderActivated struct {
	Transcoder common.Address
	Active     bool
	Raw        types.Log // Blockchain specific contextual infos
}

// FilterTranscoderActivated is a free log retrieval operation binding the contract event 0xc2332d2ebda017d2abb3de1f3bfb187112713d1ff423f0a8e1c96ec1927acf18.
//
// Solidity: event TranscoderActivated(address indexed transcoder, bool active)
func (_BondingManager *BondingManagerFilterer) FilterTranscoderActivated(opts *bind.FilterOpts, transcoder []common.Address) (*BondingManagerTranscoderActivatedIterator, error) {

	var transcoderRule []interface{}
	for _, transcoderItem := range transcoder {
		transcoderRule = append(transcoderRule, transcoderItem)
	}

	logs, sub, err := _BondingManager.contract.FilterLogs(opts, "TranscoderActivated", transcoderRule)
	if err != nil {
		return nil, err
	}
	return &BondingManagerTranscoderActivatedIterator{contract: _BondingManager.contract, event: "TranscoderActivated", logs: logs, sub: sub}, nil
}

// WatchTranscoderActivated is a free log subscription operation binding the contract event 0xc2332d2ebda017d2abb3de1f3bfb187112713d1ff423f0a8e1c96ec1927acf18.
//
// Solidity: event TranscoderActivated(address indexed transcoder, bool active)
func (_BondingManager *BondingManagerFilterer) WatchTranscoderActivated(opts *bind.WatchOpts, sink chan<- *BondingManagerTranscoderActivated, transcoder []common.Address) (event.Subscription, error) {

	var transcoderRule []interface{}
	for _, transcoderItem := range transcoder {
		transcoderRule = append(transcoderRule, transcoderItem)
	}

	logs, sub, err := _BondingManager.contract.WatchLogs(opts, "TranscoderActivated", transcoderRule)
	if err != nil {
		return nil, err
	}
	return event.NewSubscription(func(quit <-chan struct{}) error {
		defer sub.Unsubscribe()
		for {
			select {
			case log := <-logs:
				// New log arrived, parse the event and forward to the user
				event := new(BondingManagerTranscoderActivated)
				if err := _BondingManager.contract.UnpackLog(event, "TranscoderActivated", log); err != nil {
					// If the signature doesn't match, skip this log.
					if errors.Is(err, bind.ErrEventSignatureMismatch) {
						continue
					}
					return err
				}
				event.Raw = log

				select {
				case sink <- event:
				case err := <-sub.Err():
					return err
				case <-quit:
					return nil
				}
			case err := <-sub.Err():
				return err
			case <-quit:
				return nil
			}
		}
	}), nil
}

// ParseTranscoderActivated is a log parse operation binding the contract event 0xc2332d2ebda017d2abb3de1f3bfb187112713d1ff423f0a8e1c96ec1927acf18.
//
// Solidity: event TranscoderActivated(address indexed transcoder, bool active)
func (_BondingManager *BondingManagerFilterer) ParseTranscoderActivated(log types.Log) (*BondingManagerTranscoderActivated, error) {
	event := new(BondingManagerTranscoderActivated)
	if err := _BondingManager.contract.UnpackLog(event, "TranscoderActivated", log); err != nil {
		return nil, err
	}
	event.Raw = log
	return event, nil
}

// BondingManagerTranscoderPoolSizeSetIterator is returned from FilterTranscoderPoolSizeSet and is used to iterate over the raw logs and unpacked data for TranscoderPoolSizeSet events raised by the BondingManager contract.
type BondingManagerTranscoderPoolSizeSetIterator struct {
	Event *BondingManagerTranscoderPoolSizeSet // Event containing the contract specifics and raw log

	contract *bind.BoundContract // Generic contract to use for unpacking event data
	event    string              // Event name to use for unpacking event data

	logs chan types.Log        // Log channel receiving the found contract events
	sub  ethereum.Subscription // Subscription for errors, completion and termination
	done bool                  // Whether the subscription completed delivering logs
	fail error                 // Occurred error to stop iteration
}

// Next advances the iterator to the subsequent event, returning whether there
// are any more events found. In case of a retrieval or parsing error, false is
// returned and Error() can be queried for the exact failure.
func (it *BondingManagerTranscoderPoolSizeSetIterator) Next() bool {
	// If the iterator failed, stop iterating
	if it.fail != nil {
		return false
	}
	// If the iterator completed, deliver directly whatever's available
	if it.done {
		select {
		case log := <-it.logs:
			it.Event = new(BondingManagerTranscoderPoolSizeSet)
			if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
				it.fail = err
				return false
			}
			it.Event.Raw = log
			return true

		default:
			return false
		}
	}
	// Iterator still in progress, wait for either a data or an error event
	select {
	case log := <-it.logs:
		it.Event = new(BondingManagerTranscoderPoolSizeSet)
		if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
			it.fail = err
			return false
		}
		it.Event.Raw = log
		return true

	case err := <-it.sub.Err():
		it.done = true
		it.fail = err
		return it.Next()
	}
}

// Error returns any retrieval or parsing error occurred during filtering.
func (it *BondingManagerTranscoderPoolSizeSetIterator) Error() error {
	return it.fail
}

// Close terminates the iteration process, releasing any pending underlying
// resources.
func (it *BondingManagerTranscoderPoolSizeSetIterator) Close() error {
	it.sub.Unsubscribe()
	return nil
}

// BondingManagerTranscoderPoolSizeSet represents a TranscoderPoolSizeSet event raised by the BondingManager contract.
type BondingManagerTranscoderPoolSizeSet struct {
	PoolSize *big.Int
	Raw      types.Log // Blockchain specific contextual infos
}

// FilterTranscoderPoolSizeSet is a free log retrieval operation binding the contract event 0x31e0c8e4f82d68ec1a03f18cdcc8436f19ab11ded42129483611682bde8c4ebe.
//
// Solidity: event TranscoderPoolSizeSet(uint256 poolSize)
func (_BondingManager *BondingManagerFilterer) FilterTranscoderPoolSizeSet(opts *bind.FilterOpts) (*BondingManagerTranscoderPoolSizeSetIterator, error) {

	logs, sub, err := _BondingManager.contract.FilterLogs(opts, "TranscoderPoolSizeSet")
	if err != nil {
		return nil, err
	}
	return &BondingManagerTranscoderPoolSizeSetIterator{contract: _BondingManager.contract, event: "TranscoderPoolSizeSet", logs: logs, sub: sub}, nil
}

// WatchTranscoderPoolSizeSet is a free log subscription operation binding the contract event 0x31e0c8e4f82d68ec1a03f18cdcc8436f19ab11ded42129483611682bde8c4ebe.
//
// Solidity: event TranscoderPoolSizeSet(uint256 poolSize)
func (_BondingManager *BondingManagerFilterer) WatchTranscoderPoolSizeSet(opts *bind.WatchOpts, sink chan<- *BondingManagerTranscoderPoolSizeSet) (event.Subscription, error) {

	logs, sub, err := _BondingManager.contract.WatchLogs(opts, "TranscoderPoolSizeSet")
	if err != nil {
		return nil, err
	}
	return event.NewSubscription(func(quit <-chan struct{}) error {
		defer sub.Unsubscribe()
		for {
			select {
			case log := <-logs:
				// New log arrived, parse the event and forward to the user
				event := new(BondingManagerTranscoderPoolSizeSet)
				if err := _BondingManager.contract.UnpackLog(event, "TranscoderPoolSizeSet", log); err != nil {
					// If the signature doesn't match, skip this log.
					if errors.Is(err, bind.ErrEventSignatureMismatch) {
						continue
					}
					return err
				}
				event.Raw = log

				select {
				case sink <- event:
				case err := <-sub.Err():
					return err
				case <-quit:
					return nil
				}
			case err := <-sub.Err():
				return err
			case <-quit:
				return nil
			}
		}
	}), nil
}

// ParseTranscoderPoolSizeSet is a log parse operation binding the contract event 0x31e0c8e4f82d68ec1a03f18cdcc8436f19ab11ded42129483611682bde8c4ebe.
//
// Solidity: event TranscoderPoolSizeSet(uint256 poolSize)
func (_BondingManager *BondingManagerFilterer) ParseTranscoderPoolSizeSet(log types.Log) (*BondingManagerTranscoderPoolSizeSet, error) {
	event := new(BondingManagerTranscoderPoolSizeSet)
	if err := _BondingManager.contract.UnpackLog(event, "TranscoderPoolSizeSet", log); err != nil {
		return nil, err
	}
	event.Raw = log
	return event, nil
}
